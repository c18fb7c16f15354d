// Replays every file of the given folders (or files) through LLVMFuzzerTestOneInput: the
// regression half of a fuzz target, for builds without libFuzzer. Also feeds each input cut at
// every length up to 256 bytes, so truncated inputs are covered too.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::size_t n = 0; n < data.size() && n < 256; ++n) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), n);
  }
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) count += replay(e.path());
      }
    } else {
      count += replay(p);
    }
  }
  std::printf("replayed %d input(s)\n", count);
  return count > 0 ? 0 : 1;
}
