#include "callback_data.hpp"

#include <gtest/gtest.h>

namespace trellis::telegram {
namespace {

TEST(CallbackData, RoundTrips) {
  auto choice = decode_callback(encode_choice("12", 3));
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->kind, CallbackData::Kind::Choice);
  EXPECT_EQ(choice->key, "12");
  EXPECT_EQ(choice->index, 3u);
  auto command = decode_callback(encode_command("s4", "help"));
  ASSERT_TRUE(command);
  EXPECT_EQ(command->kind, CallbackData::Kind::Command);
  EXPECT_EQ(command->key, "s4");
  EXPECT_EQ(command->name, "help");
  auto flow = decode_callback(*encode_flow("braving"));
  ASSERT_TRUE(flow);
  EXPECT_EQ(flow->kind, CallbackData::Kind::Flow);
  EXPECT_EQ(flow->name, "braving");
}

TEST(CallbackData, StaysWithin64Bytes) {
  EXPECT_LE(encode_choice("9223372036854775807", 99).size(), kMaxCallbackBytes);
  EXPECT_FALSE(encode_flow(std::string(70, 'a')));
  EXPECT_FALSE(encode_flow(""));
}

TEST(CallbackData, RefusesWhatItDidNotWrite) {
  for (const char* data : {"", "v1:", "v1:12", "v1:12:", "v1:12:x", "v1:12:-1", "v2:12:1", "v1:f:", "v1:12:c:",
                           "v1:abc123:3x"}) {
    EXPECT_FALSE(decode_callback(data)) << data;
  }
}

}  // namespace
}  // namespace trellis::telegram
