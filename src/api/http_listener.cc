#include "api/http_listener.h"

#include <openssl/ssl.h>
#include <sys/resource.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstring>
#include <optional>

#include "common/thread_name.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace cdc::api {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

// Connections beyond max_connections that are being answered 503 at the same time; more are
// closed without an answer.
constexpr size_t kMaxRejecting = 64;
// How long a closing connection keeps reading what the client still sends, so that the close
// does not reset the connection before the client read our answer.
constexpr auto kLinger = std::chrono::seconds(1);

std::string Envelope(int code, const std::string& message) {
  return nlohmann::json{{"code", code}, {"message", message}}.dump() + "\n";
}

bool IsHttpError(const beast::error_code& ec) {
  return ec.category() == make_error_code(http::error::bad_method).category();
}

// Lets the process open max_connections sockets: raises the soft RLIMIT_NOFILE to the hard one
// when it is too low, and warns if even that is not enough.
void RaiseFileLimit(size_t max_connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t want = static_cast<rlim_t>(max_connections + kMaxRejecting + 256);
  if (lim.rlim_cur >= want) return;
  rlim_t before = lim.rlim_cur;
  lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) lim.rlim_cur = before;
  if (lim.rlim_cur < want) {
    spdlog::warn(
        "HTTP API: the open-file limit ({}) is below api.maxConnections ({}) plus what the "
        "server needs; raise it (ulimit -n, LimitNOFILE=) or lower api.maxConnections",
        lim.rlim_cur, max_connections);
  }
}

}  // namespace

struct HttpListener::Shared {
  ListenerOptions options;
  RequestHandler handler;
  RejectObserver on_reject;
  std::optional<ssl::context> tls;
  std::atomic<size_t> open{0};       // connections being served
  std::atomic<size_t> rejecting{0};  // connections beyond the cap, being answered 503
  std::atomic<size_t> busy{0};       // requests handed to the handler, answer not written yet
  std::atomic<bool> stopping{false};

  void Rejected(const char* reason) const {
    if (on_reject) on_reject(reason);
  }
};

namespace {

using Shared = std::shared_ptr<HttpListener::Shared>;

template <class Stream>
Stream MakeStream(tcp::socket socket, HttpListener::Shared& shared) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    return Stream(std::move(socket));
  } else {
    return Stream(std::move(socket), *shared.tls);
  }
}

// One connection: handshake (TLS), then requests one after another. Lives as long as an
// asynchronous operation or a Responder holds it; runs on its strand.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(Shared shared, tcp::socket socket, std::string ip, bool reject)
      : shared_(std::move(shared)),
        stream_(MakeStream<Stream>(std::move(socket), *shared_)),
        ip_(std::move(ip)),
        reject_(reject) {}
  ~Session() { (reject_ ? shared_->rejecting : shared_->open)--; }

  void Start() {
    if constexpr (kTls) {
      Tcp().expires_after(Options().header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec == beast::error::timeout) {
                                  self->shared_->Rejected("header_timeout");
                                } else if (!ec) {
                                  self->ReadHeader();
                                }
                              });
    } else {
      ReadHeader();
    }
  }

 private:
  const ListenerOptions& Options() const { return shared_->options; }
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(Options().max_header_bytes));
    parser_->body_limit(Options().max_body_bytes);
    Tcp().expires_after(Options().header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec, "header_timeout");
    auto& req = parser_->get();
    version_ = req.version();
    if (reject_) {
      return Refuse(503,
                    "too many open connections (api.maxConnections " +
                        std::to_string(Options().max_connections) + "); retry later",
                    nullptr);
    }
    if (shared_->stopping) return Refuse(503, "the server is stopping; retry later", nullptr);
    if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont =
          std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
      Tcp().expires_after(Options().body_timeout);
      http::async_write(stream_, *cont,
                        [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (!ec) self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    Tcp().expires_after(Options().body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec, "body_timeout");
                       self->Dispatch();
                     });
  }

  // A failed read: timeouts have closed the stream already; limits and malformed requests get
  // an answer; a client that went away gets nothing.
  void OnReadError(beast::error_code ec, const char* timeout_reason) {
    if (ec == beast::error::timeout) return shared_->Rejected(timeout_reason);
    if (ec == http::error::body_limit) {
      return Refuse(413,
                    "the request body exceeds api.maxBodyBytes (" +
                        std::to_string(Options().max_body_bytes) + " bytes)",
                    "too_large");
    }
    if (ec == http::error::header_limit) {
      return Refuse(
          431,
          "the request headers exceed " + std::to_string(Options().max_header_bytes) + " bytes",
          "too_large");
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return;
    if (IsHttpError(ec))
      return Refuse(400, "malformed HTTP request: " + ec.message(), "bad_request");
  }

  void Dispatch() {
    Tcp().expires_never();  // the handler is bounded on its own; the client waits
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    HttpRequest r;
    r.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    r.path = std::string(target.substr(0, target.find('?')));
    r.body = std::move(req.body());
    auto auth = req[http::field::authorization];
    r.authorization.assign(auth.data(), auth.size());
    r.remote_ip = ip_;
    shared_->busy++;
    auto exec = stream_.get_executor();
    Responder respond = [self = this->shared_from_this(), exec](HttpResponse res) {
      net::post(exec, [self, res = std::move(res)]() mutable {
        self->Write(std::move(res), /*close=*/false, /*answered_request=*/true);
      });
    };
    shared_->handler(std::move(r), std::move(respond));
  }

  // Answers `status` with a JSON envelope and closes; `reason` (if any) is reported.
  void Refuse(int status, const std::string& message, const char* reason) {
    if (reason) shared_->Rejected(reason);
    HttpResponse res;
    res.status = status;
    res.body = Envelope(status, message);
    if (status == 503) res.headers.emplace_back("Retry-After", "1");
    Write(std::move(res), /*close=*/true, /*answered_request=*/false);
  }

  void Write(HttpResponse in, bool close, bool answered_request) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(in.status), version_);
    res->set(http::field::server, "milvus-cdc");
    res->set(http::field::content_type, in.content_type);
    for (const auto& [name, value] : in.headers) res->set(name, value);
    res->body() = std::move(in.body);
    close = close || !keep_alive_ || shared_->stopping;
    res->keep_alive(!close);
    res->prepare_payload();
    Tcp().expires_after(Options().body_timeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res, close, answered_request](
                          beast::error_code ec, size_t) {
                        if (answered_request) self->shared_->busy--;
                        if (!ec) self->AfterWrite(close);
                      });
  }

  void AfterWrite(bool close) {
    if (close) return Close();
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is waiting
    // Idle until the next request's first byte, then the header timeout runs.
    Tcp().expires_after(Options().idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(4096), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) return;  // idle timeout (the stream is closed) or the client went away
          self->buffer_.commit(n);
          self->ReadHeader();
        });
  }

  void Close() {
    if constexpr (kTls) {
      Tcp().expires_after(kLinger);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Tcp().close(); });
    } else {
      beast::error_code ec;
      Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
      linger_until_ = std::chrono::steady_clock::now() + kLinger;
      Linger();
    }
  }

  void Linger() {
    Tcp().expires_at(linger_until_);
    Tcp().async_read_some(net::buffer(drain_),
                          [self = this->shared_from_this()](beast::error_code ec, size_t) {
                            if (!ec) self->Linger();
                          });
  }

  Shared shared_;
  Stream stream_;
  std::string ip_;
  bool reject_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  std::chrono::steady_clock::time_point linger_until_;
  char drain_[1024] = {};
};

}  // namespace

class HttpListener::Acceptor {
 public:
  explicit Acceptor(std::shared_ptr<Shared> shared)
      : shared_(std::move(shared)), acceptor_(io_), backoff_(io_) {}

  net::io_context& io() { return io_; }

  Status Listen(const std::string& host, int port, int* bound) {
    auto fail = [&](const std::string& what) {
      return UnavailableError("listen on " + host + ":" + std::to_string(port) + ": " + what +
                              "; is another server using it? change `address` in the config");
    };
    beast::error_code ec;
    auto addr = net::ip::make_address(host, ec);
    if (ec) return fail("not an IP address (" + ec.message() + ")");
    tcp::endpoint ep(addr, static_cast<unsigned short>(port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail(ec.message());
    *bound = acceptor_.local_endpoint().port();
    net::post(acceptor_.get_executor(), [this] { Accept(); });
    return OkStatus();
  }

  void Close() {
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      backoff_.cancel();
    });
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
        return;
      }
      if (ec) {  // e.g. out of file descriptors: do not spin
        spdlog::warn("HTTP API: accept failed: {}; retrying in 100 ms", ec.message());
        backoff_.expires_after(std::chrono::milliseconds(100));
        backoff_.async_wait([this](beast::error_code e) {
          if (!e) Accept();
        });
        return;
      }
      Admit(std::move(socket));
      Accept();
    });
  }

  void Admit(tcp::socket socket) {
    bool reject = shared_->open.load() >= shared_->options.max_connections;
    if (reject && shared_->rejecting.load() >= kMaxRejecting) {
      shared_->Rejected("connection_limit");
      beast::error_code ec;
      socket.close(ec);
      return;
    }
    (reject ? shared_->rejecting : shared_->open)++;
    if (reject) shared_->Rejected("connection_limit");
    beast::error_code ec;
    std::string ip = socket.remote_endpoint(ec).address().to_string();
    if (shared_->tls) {
      using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;
      std::make_shared<TlsSession>(shared_, std::move(socket), std::move(ip), reject)->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(shared_, std::move(socket), std::move(ip),
                                                   reject)
          ->Start();
    }
  }

  std::shared_ptr<Shared> shared_;
  net::io_context io_;  // destroyed last: the acceptor and the sessions belong to it
  tcp::acceptor acceptor_;
  net::steady_timer backoff_;
};

namespace {

Result<ssl::context> TlsContext(const ListenerOptions& o) {
  ssl::context ctx(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  ctx.use_certificate_chain_file(o.tls_cert_path, ec);
  if (ec) {
    return InvalidArgumentError(
        "config key api.tls.certPath: cannot load a PEM certificate "
        "chain from " +
        o.tls_cert_path + ": " + ec.message());
  }
  ctx.use_private_key_file(o.tls_key_path, ssl::context::pem, ec);
  if (ec) {
    return InvalidArgumentError("config key api.tls.keyPath: cannot load a PEM private key from " +
                                o.tls_key_path + ": " + ec.message());
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return InvalidArgumentError("config keys api.tls.certPath/keyPath: the key in " +
                                o.tls_key_path + " does not match the certificate in " +
                                o.tls_cert_path);
  }
  return ctx;
}

}  // namespace

HttpListener::HttpListener(ListenerOptions options, RequestHandler handler,
                           RejectObserver on_reject)
    : shared_(std::make_shared<Shared>()) {
  shared_->options = std::move(options);
  shared_->handler = std::move(handler);
  shared_->on_reject = std::move(on_reject);
}

HttpListener::~HttpListener() { Stop(); }

Status HttpListener::Start(const std::string& host, int port) {
  const auto& o = shared_->options;
  if (!o.tls_cert_path.empty()) {
    auto ctx = TlsContext(o);
    if (!ctx.ok()) return ctx.status();
    shared_->tls.emplace(std::move(*ctx));
  }
  RaiseFileLimit(o.max_connections);
  acceptor_ = std::make_unique<Acceptor>(shared_);
  Status s = acceptor_->Listen(host, port, &port_);
  if (!s.ok()) {
    acceptor_.reset();
    return s;
  }
  for (int i = 0; i < std::max(1, o.io_threads); ++i) {
    threads_.emplace_back([io = &acceptor_->io()] {
      NameThread("http");
      io->run();
    });
  }
  return OkStatus();
}

void HttpListener::StopAccepting() {
  shared_->stopping = true;
  if (acceptor_) acceptor_->Close();
}

void HttpListener::Stop() {
  if (!acceptor_) return;
  StopAccepting();
  // Answers of requests already handed to the handler are written before the threads stop.
  auto wait =
      std::min<std::chrono::milliseconds>(shared_->options.body_timeout, std::chrono::seconds(5));
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (shared_->busy.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  acceptor_->io().stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  acceptor_.reset();  // closes every connection
}

size_t HttpListener::open_connections() const {
  return shared_->open.load() + shared_->rejecting.load();
}

}  // namespace cdc::api
