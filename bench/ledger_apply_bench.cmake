# Link libraries of bench/ledger_apply_bench.cc (included by bench/CMakeLists.txt). The RocksDB
# ledger tables are added here when the storage layer has not added storage/ledger itself.
if(NOT TARGET synod_ledger_rocksdb)
  add_subdirectory(${PROJECT_SOURCE_DIR}/storage/ledger ${CMAKE_BINARY_DIR}/storage_ledger_bench)
endif()
target_link_libraries(ledger_apply_bench PRIVATE synod_ledger synod_ledger_rocksdb)
