#pragma once
// The status page served at GET /: one self-contained HTML document (status_page.html, compiled
// in by cmake/EmbedText.cmake) that reads everything through POST /cdc from the browser. It
// holds no data itself, so serving it needs no token; its API calls send the token the user
// types in (kept in the tab's sessionStorage).
#include <string_view>

#include "api/http_listener.h"

namespace cdc::api {

// The page's bytes (static storage).
std::string_view StatusPageHtml();

// The answer to GET /: the page, with headers that keep it from being framed, cached or
// given any other origin's scripts (Content-Security-Policy).
HttpResponse StatusPageResponse();

}  // namespace cdc::api
