#ifndef KV_TESTS_FUZZ_BYTE_READER_H_
#define KV_TESTS_FUZZ_BYTE_READER_H_

// Reads a fuzz input as a program: bytes in order, zeros once it is
// exhausted (so a program never fails to decode, it just ends). The model
// targets derive their decoders (keys, versions...) from it.

#include <cstddef>
#include <cstdint>

namespace kv {

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace kv

#endif  // KV_TESTS_FUZZ_BYTE_READER_H_
