#include "api/status_page.h"

namespace cdc::api {

HttpResponse StatusPageResponse() {
  HttpResponse res;
  res.content_type = "text/html; charset=utf-8";
  res.body = std::string(StatusPageHtml());
  // Its own inline script and style only; it talks to this server only; no framing (a
  // clickjacked Pause button), no referrer, no caching of an old page after an upgrade.
  res.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'unsafe-inline'; "
                           "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  res.headers.emplace_back("X-Frame-Options", "DENY");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  res.headers.emplace_back("Cache-Control", "no-store");
  return res;
}

}  // namespace cdc::api
