// docs/openapi.yaml against the real milvus-cdc binary: every request type's real answers (and
// the error envelopes) validate against the schema named for them, and the requests sent
// validate against CdcRequest. The validator below covers the schema keywords the document
// uses and refuses any other, so a schema cannot silently stop checking.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>

#include "api/position_view.h"
#include "cdc_process.h"
#include "grpc_target.h"
#include "task/task_json.h"
#include "yaml-cpp/yaml.h"

namespace cdc::testing {
namespace {

using json = nlohmann::json;

// YAML to JSON: quoted scalars stay strings, plain ones become bools, nulls and numbers when
// they look like them.
json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = ToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& e : n) a.push_back(ToJson(e));
      return a;
    }
    case YAML::NodeType::Scalar: {
      std::string s = n.Scalar();
      if (n.Tag() == "!") return s;
      if (s == "true" || s == "false") return s == "true";
      if (s == "null" || s == "~") return nullptr;
      static const std::regex kInt("-?[0-9]+"), kFloat("-?[0-9]+\\.[0-9]+");
      if (std::regex_match(s, kInt)) return std::stoll(s);
      if (std::regex_match(s, kFloat)) return std::stod(s);
      return s;
    }
    default:
      return nullptr;
  }
}

class OpenApi {
 public:
  explicit OpenApi(const std::string& path) : doc_(ToJson(YAML::LoadFile(path))) {}
  const json& doc() const { return doc_; }

  // Every schema in components.schemas, recursively: unsupported keywords and unresolved
  // $refs.
  std::vector<std::string> Lint() const {
    std::vector<std::string> out;
    for (const auto& [name, s] : doc_["components"]["schemas"].items()) Lint(s, name, &out);
    return out;
  }

  // "" if `v` is valid against components.schemas[name], else the first errors.
  std::string Validate(const json& v, const std::string& name) const {
    std::vector<std::string> errors;
    Check(Schema("#/components/schemas/" + name), v, "$", &errors);
    std::string out;
    for (size_t i = 0; i < errors.size() && i < 5; ++i) out += errors[i] + "\n";
    return out;
  }

 private:
  const json& Schema(const std::string& ref) const {
    static const json kMissing = {{"x-missing", true}};
    const std::string prefix = "#/components/schemas/";
    if (ref.rfind(prefix, 0) != 0) return kMissing;
    const json& all = doc_["components"]["schemas"];
    auto it = all.find(ref.substr(prefix.size()));
    return it == all.end() ? kMissing : *it;
  }

  void Lint(const json& s, const std::string& path, std::vector<std::string>* out) const {
    for (const auto& [k, sub] : s.items()) {
      if (!kKnown.count(k) && !kIgnored.count(k)) out->push_back(path + ": keyword " + k);
      if (k == "$ref" && Schema(sub).contains("x-missing"))
        out->push_back(path + ": $ref " + sub.dump());
      if (k == "properties") {
        for (const auto& [p, ps] : sub.items()) Lint(ps, path + "." + p, out);
      }
      if ((k == "items" || k == "additionalProperties") && sub.is_object())
        Lint(sub, path + "/" + k, out);
      if (k == "oneOf" || k == "anyOf" || k == "allOf") {
        for (const auto& e : sub) Lint(e, path + "/" + k, out);
      }
    }
  }

  static bool HasType(const json& v, const std::string& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "integer") return v.is_number_integer();
    if (type == "number") return v.is_number();
    return false;
  }

  void Check(const json& s, const json& v, const std::string& path,
             std::vector<std::string>* errors) const {
    auto fail = [&](const std::string& what) { errors->push_back(path + ": " + what); };
    for (const auto& [k, unused] : s.items()) {
      if (!kKnown.count(k) && !kIgnored.count(k)) fail("schema keyword '" + k + "' not supported");
    }
    if (s.contains("$ref")) {
      const json& target = Schema(s["$ref"]);
      if (target.contains("x-missing")) return fail("unresolved $ref " + s["$ref"].dump());
      return Check(target, v, path, errors);
    }
    if (v.is_null() && s.value("nullable", false)) return;
    if (s.contains("type") && !HasType(v, s["type"])) {
      return fail("expected " + s["type"].get<std::string>() + ", got " + v.dump());
    }
    if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end()) {
      fail(v.dump() + " is not one of " + s["enum"].dump());
    }
    if (s.contains("minimum") && v.is_number() && v.get<double>() < s["minimum"].get<double>()) {
      fail(v.dump() + " is below the minimum " + s["minimum"].dump());
    }
    if (s.contains("pattern") && v.is_string() &&
        !std::regex_search(v.get<std::string>(), std::regex(s["pattern"].get<std::string>()))) {
      fail(v.dump() + " does not match " + s["pattern"].dump());
    }
    CheckObject(s, v, path, errors);
    if (s.contains("items") && v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) {
        Check(s["items"], v[i], path + "[" + std::to_string(i) + "]", errors);
      }
    }
    auto count_valid = [&](const json& list) {
      int n = 0;
      for (const auto& sub : list) {
        std::vector<std::string> e;
        Check(sub, v, path, &e);
        n += e.empty();
      }
      return n;
    };
    if (s.contains("allOf")) {
      for (const auto& sub : s["allOf"]) Check(sub, v, path, errors);
    }
    if (s.contains("anyOf") && count_valid(s["anyOf"]) == 0) fail("matches none of anyOf");
    if (s.contains("oneOf") && count_valid(s["oneOf"]) != 1) {
      fail("matches " + std::to_string(count_valid(s["oneOf"])) + " of oneOf, expected 1");
    }
  }

  void CheckObject(const json& s, const json& v, const std::string& path,
                   std::vector<std::string>* errors) const {
    if (!v.is_object()) return;
    const json props = s.value("properties", json::object());
    for (const auto& r : s.value("required", json::array())) {
      if (!v.contains(r.get<std::string>())) errors->push_back(path + ": missing " + r.dump());
    }
    for (const auto& [k, item] : v.items()) {
      if (props.contains(k)) {
        Check(props[k], item, path + "." + k, errors);
      } else if (s.contains("additionalProperties")) {
        const json& extra = s["additionalProperties"];
        if (extra.is_boolean()) {
          if (!extra.get<bool>()) errors->push_back(path + ": unexpected property " + k);
        } else {
          Check(extra, item, path + "." + k, errors);
        }
      }
    }
  }

  inline static const std::set<std::string> kIgnored = {"description", "example", "format",
                                                        "deprecated"};
  inline static const std::set<std::string> kKnown = {
      "$ref",  "type",  "nullable", "enum",  "properties", "required", "additionalProperties",
      "items", "oneOf", "anyOf",    "allOf", "minimum",    "pattern"};
  json doc_;
};

const OpenApi& Spec() {
  static const OpenApi spec(std::string(CDC_SOURCE_DIR) + "/docs/openapi.yaml");
  return spec;
}

TEST(OpenApiDocTest, IsOpenApi3AndTheValidatorRejectsWrongShapes) {
  const json& d = Spec().doc();
  EXPECT_EQ(d.value("openapi", ""), "3.0.3");
  ASSERT_TRUE(d["paths"].contains("/cdc"));
  EXPECT_EQ(Spec().Validate({{"code", 200}, {"data", {{"task_id", "abc"}}}}, "CreateReply"), "");
  // The validator is not vacuous: wrong type, extra field, missing field, bad enum.
  EXPECT_NE(Spec().Validate({{"code", 200}, {"data", {{"task_id", 5}}}}, "CreateReply"), "");
  EXPECT_NE(Spec().Validate({{"code", 200}, {"data", {{"task_id", "a"}, {"x", 1}}}}, "CreateReply"),
            "");
  EXPECT_NE(Spec().Validate({{"code", 200}}, "CreateReply"), "");
  EXPECT_NE(Spec().Validate({{"code", 201}, {"message", "x"}}, "ErrorEnvelope"), "");
  EXPECT_NE(Spec().Validate({{"code", 200}, {"data", {{"State", "x"}}}}, "EmptyReply"), "");
  // Every $ref resolves and every keyword is understood.
  EXPECT_EQ(Spec().Lint(), std::vector<std::string>{});
}

class OpenApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(target_.ok());
    if (!HasLiveSource()) GTEST_SKIP() << kNoLiveSource;
    cdc_ = std::make_unique<CdcProcess>(FreshTempDir("cdc-openapi", "server"));
    cdc_->WriteConfig("metaStoreConfig:\n  storeType: sqlite\n  sqlite:\n    path: data/meta.db\n" +
                      SourceYaml());
    ASSERT_TRUE(cdc_->Start()) << cdc_->log();
  }
  void TearDown() override {
    if (cdc_ && cdc_->Running()) {
      EXPECT_EQ(cdc_->Stop(), 0) << cdc_->log();
    }
    if (cdc_ && !HasFailure()) std::filesystem::remove_all(cdc_->dir());
  }
  // Sends a request (checked against CdcRequest) and checks the answer against `schema` and
  // CdcResponse.
  json Expect(const std::string& type, const json& data, const std::string& schema) {
    json req = {{"request_type", type}};
    if (!data.is_null()) req["request_data"] = data;
    EXPECT_EQ(Spec().Validate(req, "CdcRequest"), "") << req.dump();
    auto [status, body] = cdc_->Request("POST", "/cdc", req.dump());
    EXPECT_EQ(status, 200);
    json r = json::parse(body, nullptr, false);
    EXPECT_EQ(Spec().Validate(r, schema), "") << type << " -> " << body;
    EXPECT_EQ(Spec().Validate(r, "CdcResponse"), "") << type << " -> " << body;
    ++checked_[schema];
    return r;
  }

  GrpcTarget target_;
  std::unique_ptr<CdcProcess> cdc_;
  std::map<std::string, int> checked_;
};

TEST_F(OpenApiServerTest, EveryRequestTypesRealAnswersMatchTheSchema) {
  Expect("list", nullptr, "ListReply");  // no tasks: []
  json target = {{"uri", target_.uri()}, {"token", "root:Milvus"}, {"connect_timeout", 2}};
  std::string a =
      Expect("create", {{"milvus_connect_param", target}, {"collection_infos", {{{"name", "c1"}}}}},
             "CreateReply")["data"]["task_id"];
  Expect("create",
         {{"milvus_connect_param", target},
          {"db_collections", {{"db1", {{{"name", "*"}}}}}},
          {"disable_auto_start", true}},
         "CreateReply");
  Expect("create",
         {{"milvus_connect_param",
           {{"host", "127.0.0.1"}, {"port", target_.port()}, {"connect_timeout", 2}}},
          {"collection_infos", {{{"name", "*"}}}},
          {"task_id", "fixed-id"}},
         "CreateReply");
  Expect("get", {{"task_id", a}}, "GetReply");
  Expect("get", {{"task_id", "fixed-id"}}, "GetReply");
  EXPECT_EQ(Expect("list", nullptr, "ListReply")["data"]["tasks"].size(), 3u);
  Expect("position", {{"task_id", a}}, "PositionReply");
  Expect("pause", {{"task_id", a}}, "EmptyReply");
  Expect("get", {{"task_id", a}}, "GetReply");  // with a reason now
  Expect("resume", {{"task_id", a}}, "EmptyReply");
  Expect("maintenance", {{"operation", "set_log_level"}, {"params", {{"log_level", "info"}}}},
         "MaintenanceReply");
  Expect("maintenance", {{"operation", "set_force_log_msg"}, {"params", {{"force", false}}}},
         "MaintenanceReply");
  Expect("maintenance",
         {{"operation", "reset_log_msg"}, {"params", {{"count", 5}, {"duration", 1}}}},
         "MaintenanceReply");
  Expect("delete", {{"task_id", "fixed-id"}}, "EmptyReply");
  Expect("delete", {{"task_id", "nope"}, {"ignore_not_found", true}}, "EmptyReply");

  // Errors: 400 (handler, decode of a known type, not found), 500 (decode), and the ones that
  // never reach a handler (405, malformed body, unknown type, unknown path).
  Expect("get", {{"task_id", "nope"}}, "ErrorEnvelope");
  Expect("pause", {{"task_id", a}}, "EmptyReply");
  Expect("pause", {{"task_id", a}}, "ErrorEnvelope");
  Expect("create", {{"milvus_connect_param", {{"uri", target_.uri()}}}}, "ErrorEnvelope");
  for (const auto& [method, path, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", "/cdc", ""},
           {"POST", "/cdc", "{\"request_type\": "},
           {"POST", "/cdc", R"({"request_type":"explode"})"},
           {"POST", "/cdc",
            R"({"request_type":"create","request_data":{"milvus_connect_param":{"port":"x"}}})"},
           {"POST", "/nowhere", "{}"}}) {
    auto [status, text] = cdc_->Request(method, path, body);
    json r = json::parse(text, nullptr, false);
    EXPECT_EQ(Spec().Validate(r, "ErrorEnvelope"), "") << method << " " << path << " " << text;
    ++checked_["ErrorEnvelope"];
  }
  for (const char* s : {"CreateReply", "GetReply", "ListReply", "PositionReply", "MaintenanceReply",
                        "EmptyReply", "ErrorEnvelope"}) {
    EXPECT_GT(checked_[s], 0) << s;
  }
}

TEST(OpenApiPositionTest, PositionsWithCheckpointsMatchTheSchema) {
  // A stored checkpoint row as the pipeline writes it (upstream layout), through the same
  // function `position` answers with.
  meta::PositionRecord row;
  row.task_id = "t1";
  row.collection_id = 449;
  row.positions_json =
      R"({"by-dev-rootcoord-dml_0":{"Time":1700000000000,"DataPair":{"key":"by-dev-rootcoord-dml_0_449v0","data":"AQID"}}})";
  row.op_positions_json = row.positions_json;
  row.target_positions_json =
      R"({"cdc-target-rootcoord-dml_1":{"Time":1700000000001,"DataPair":{"key":"k","data":"BA=="}}})";
  auto view = api::PositionView({row});
  ASSERT_TRUE(view.ok()) << view.status();
  (*view)["channels"] = json::array({{{"channel_name", "by-dev-rootcoord-dml_0"},
                                      {"checkpoint", "by-dev-rootcoord-dml_0@offset 42"},
                                      {"checkpoint_ts", 445566},
                                      {"checkpoint_time", 1},
                                      {"lag_ms", -1},
                                      {"lag_messages", 0}}});
  json reply = {{"code", 200}, {"data", *view}};
  ASSERT_FALSE((*view)["positions"].is_null());
  EXPECT_EQ(Spec().Validate(reply, "PositionReply"), "") << reply.dump();
}

TEST(OpenApiTaskHealthTest, HealthFieldsMatchTheSchema) {
  // A task with collections set aside, skips and initial sync running, through the same
  // functions `get` answers with (the server test above only sees healthy tasks).
  task::TaskInfo t;
  t.task_id = "t1";
  t.milvus.uri = "http://127.0.0.1:19530";
  t.collection_infos.emplace_back().name = "c1";
  t.initial_sync = true;
  json view = task::ToApiJson(t);
  EXPECT_EQ(view["initial_sync"], true);  // the setting until the health shows progress
  view["channels"] = json::array();
  task::TaskHealth health;
  health.collections = {{"default.c1", "set_aside", "target refused the index", 1700000000000, ""},
                        {"default.c2", "requests_waiting", "load waits for the index", 0, ""}};
  health.skipped = {{"unknown_msg_type", 2}};
  health.initial_sync = {{"default.c1", "replaying", 0, 1000, -1, ""},
                         {"default.c2", "copying", 10, 1000, 30, ""},
                         {"default.c3", "done", 5, 5, 0, ""}};
  task::AddHealthJson(health, &view);
  json reply = {{"code", 200}, {"data", {{"task", view}, {"Task", view}}}};
  EXPECT_EQ(Spec().Validate(reply, "GetReply"), "") << reply.dump();
  // Each new field is checked: an unknown state or phase, a negative count, a missing field.
  for (const auto& [pointer, bad] :
       std::vector<std::pair<std::string, json>>{{"/data/task/collections/0/state", "waiting"},
                                                 {"/data/task/initial_sync/1/phase", "started"},
                                                 {"/data/task/skipped/unknown_msg_type", -1},
                                                 {"/data/task/initial_sync", "yes"}}) {
    json wrong = reply;
    wrong[json::json_pointer(pointer)] = bad;
    EXPECT_NE(Spec().Validate(wrong, "GetReply"), "") << pointer;
  }
  json missing = reply;
  missing["data"]["task"].erase("skipped");
  EXPECT_NE(Spec().Validate(missing, "GetReply"), "");
}

}  // namespace
}  // namespace cdc::testing
