# cdc_library(NAME meta_sqlite SRCS a.cc b.cc DEPS cdc::meta SQLite::SQLite3)
# One static library per folder, exposed as cdc::<name>. Includes are rooted at src/ and at the
# generated proto folder, so code writes #include "meta/store.h" and #include "milvus/common.pb.h".
function(cdc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(cdc_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(cdc::${ARG_NAME} ALIAS cdc_${ARG_NAME})
  target_include_directories(cdc_${ARG_NAME} PUBLIC ${CMAKE_SOURCE_DIR}/src ${CDC_PROTO_OUT})
  target_link_libraries(cdc_${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

# cdc_test(NAME meta_sqlite_test SRCS x_test.cc DEPS cdc::meta_sqlite LABELS unit)
# LABELS: unit (no servers) or integration (needs servers started by scripts/test-servers.sh).
function(cdc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 600)
endfunction()

# cdc_proto(NAME milvus_proto PROTOS common.proto schema.proto [GRPC] DEPS ...)
# Compiles .proto files under proto/ into ${CDC_PROTO_OUT} keeping their relative path.
function(cdc_proto)
  cmake_parse_arguments(ARG "GRPC" "NAME" "PROTOS;DEPS" ${ARGN})
  set(srcs)
  foreach(p IN LISTS ARG_PROTOS)
    get_filename_component(abs ${p} ABSOLUTE)
    file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR}/proto ${abs})
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    set(outs ${CDC_PROTO_OUT}/${base}.pb.cc ${CDC_PROTO_OUT}/${base}.pb.h)
    set(args --cpp_out=${CDC_PROTO_OUT})
    if(ARG_GRPC)
      list(APPEND outs ${CDC_PROTO_OUT}/${base}.grpc.pb.cc ${CDC_PROTO_OUT}/${base}.grpc.pb.h)
      list(APPEND args --grpc_out=${CDC_PROTO_OUT} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CDC_PROTO_OUT}
      COMMAND protobuf::protoc -I${CMAKE_SOURCE_DIR}/proto ${args} ${abs}
      DEPENDS ${abs} protobuf::protoc
      COMMENT "protoc ${rel}")
    foreach(o IN LISTS outs)
      if(o MATCHES "\\.cc$")
        list(APPEND srcs ${o})
      endif()
    endforeach()
  endforeach()
  add_library(cdc_${ARG_NAME} STATIC ${srcs})
  add_library(cdc::${ARG_NAME} ALIAS cdc_${ARG_NAME})
  target_include_directories(cdc_${ARG_NAME} PUBLIC ${CDC_PROTO_OUT})
  target_link_libraries(cdc_${ARG_NAME} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(cdc_${ARG_NAME} PUBLIC gRPC::grpc++)
  endif()
  target_compile_options(cdc_${ARG_NAME} PRIVATE -w)
endfunction()
