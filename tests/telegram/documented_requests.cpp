#include "documented_requests.hpp"

#include <gtest/gtest.h>

namespace trellis::telegram::testing {

using nlohmann::json;

void expect_documented(const std::vector<BotRequest>& requests) {
  static const json methods = fixture("api_methods.json")["methods"];
  for (const auto& request : requests) {
    ASSERT_TRUE(methods.contains(request.method)) << request.method;
    const auto& spec = methods[request.method];
    ASSERT_TRUE(request.params.is_object()) << request.method;
    for (const auto& [name, type] : spec.items()) {
      const std::string types = type.get<std::string>();
      if (types.front() == '!') {
        EXPECT_TRUE(request.params.contains(name)) << request.method << " lacks " << name;
      }
    }
    for (const auto& [name, value] : request.params.items()) {
      ASSERT_TRUE(spec.contains(name)) << request.method << " has undocumented " << name;
      const std::string types = spec[name].get<std::string>();
      bool fits = (types.find("Integer") != std::string::npos && value.is_number_integer()) ||
                  (types.find("String") != std::string::npos && value.is_string()) ||
                  (types.find("Boolean") != std::string::npos && value.is_boolean()) ||
                  (types.find("Array") != std::string::npos && value.is_array()) ||
                  (types.find("Markup") != std::string::npos && value.is_object()) ||
                  (types.find("Options") != std::string::npos && value.is_object());
      EXPECT_TRUE(fits) << request.method << "." << name << " is " << value.dump() << ", documented " << types;
    }
    EXPECT_FALSE(request.params.contains("parse_mode")) << "plain text only";
    if (request.method == "sendMessage") {
      EXPECT_FALSE(request.params["text"].get<std::string>().empty());
      for (const auto& row : request.params.value("reply_markup", json::object()).value("inline_keyboard", json::array())) {
        for (const auto& button : row) {
          auto data = button["callback_data"].get<std::string>();
          EXPECT_GE(data.size(), 1u);
          EXPECT_LE(data.size(), 64u);
        }
      }
    }
    if (request.method == "answerCallbackQuery" && request.params.contains("text")) {
      EXPECT_LE(request.params["text"].get<std::string>().size(), 200u);
    }
  }
}

}  // namespace trellis::telegram::testing
