// Planted for PaxosPurity.PlantedRocksdbIncludeIsRejected: the purity check must reject this.
#pragma once
#include <rocksdb/db.h>
