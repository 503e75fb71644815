# Link libraries of bench/group_commit_bench.cc (included by bench/CMakeLists.txt).
target_link_libraries(${name} PRIVATE synod_storage)
