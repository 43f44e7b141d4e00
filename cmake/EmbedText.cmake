# cmake -DIN=page.html -DOUT=page.cc -DNAME=StatusPageHtml -DNAMESPACE=cdc::api -P EmbedText.cmake
# Writes OUT, a C++ file defining `std::string_view NAME()` in NAMESPACE that returns the bytes
# of IN (a text file) as a raw string literal.
file(READ ${IN} content)
string(FIND "${content}" ")embedded_text\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw string delimiter )embedded_text\"")
endif()
file(WRITE ${OUT}.tmp "// Generated from ${IN} by cmake/EmbedText.cmake; do not edit.
#include <string_view>

namespace ${NAMESPACE} {

std::string_view ${NAME}() {
  static constexpr std::string_view kText = R\"embedded_text(${content})embedded_text\";
  return kText;
}

}  // namespace ${NAMESPACE}
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
