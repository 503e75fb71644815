# Fails when a source file under DIR includes a header that does I/O, keeps time, spawns
# threads or draws unseeded randomness. Run before every build of the pure core (src/paxos):
#   cmake -DDIR=<dir> -P check_pure.cmake
file(GLOB_RECURSE sources "${DIR}/*.h" "${DIR}/*.cc")
set(forbidden "rocksdb/|zmq|spdlog|httplib|fstream|iostream|<thread>|<mutex>|<chrono>|<random>|<filesystem>|<ctime>|sys/|unistd\\.h|fcntl\\.h")
set(bad "")
foreach(src ${sources})
  file(STRINGS "${src}" lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${lines})
    if(line MATCHES "${forbidden}")
      list(APPEND bad "${src}: ${line}")
    endif()
  endforeach()
endforeach()
if(bad)
  string(REPLACE ";" "\n  " bad "${bad}")
  message(FATAL_ERROR "the pure core must not do I/O, keep time or start threads:\n  ${bad}")
endif()
