// Token signing and verification with HMAC-SHA256 (OpenSSL).
#include "common/token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "common/sha256.h"

namespace zhsm {
namespace {

void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string mac_input(const TokenFields& f) {
  std::string s = "zhsm-token-v1";
  put_u64(s, f.token_id);
  s.append(reinterpret_cast<const char*>(f.fsid.bytes.data()), 16);
  put_u64(s, f.ino);
  s.push_back(static_cast<char>(static_cast<uint8_t>(f.mode)));
  put_u64(s, f.expires_ms);
  put_u64(s, f.client_id);
  return s;
}

Digest compute_mac(const std::string& key, const TokenFields& f) {
  std::string in = mac_input(f);
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(in.data()), in.size(), out.data(), &len);
  return out;
}

}  // namespace

std::string load_cluster_key(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(Errc::invalid, "cannot read cluster key file " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' '))
    key.pop_back();
  if (key.size() < 32)
    throw Error(Errc::invalid, "cluster key in " + path.string() + " is shorter than 32 bytes");
  return key;
}

void write_cluster_key(const std::filesystem::path& path) {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw Error(Errc::internal, "RAND_bytes failed");
  std::string hex = to_hex(raw, sizeof raw) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) throw Error(Errc::io, "cannot create cluster key file " + path.string());
  bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  ::close(fd);
  if (!ok) throw Error(Errc::io, "cannot write cluster key file " + path.string());
}

void sign_token(const std::string& key, const TokenFields& f, proto::Token::Builder out) {
  out.setTokenId(f.token_id);
  out.setFsid(f.fsid.data());
  out.setIno(f.ino);
  out.setMode(f.mode);
  out.setExpiresMs(f.expires_ms);
  out.setClientId(f.client_id);
  Digest mac = compute_mac(key, f);
  out.setMac(capnp::Data::Reader(mac.data(), mac.size()));
}

TokenFields token_fields(proto::Token::Reader t) {
  TokenFields f;
  f.token_id = t.getTokenId();
  if (auto id = Uuid::from_data(t.getFsid())) f.fsid = *id;
  f.ino = t.getIno();
  f.mode = t.getMode();
  f.expires_ms = t.getExpiresMs();
  f.client_id = t.getClientId();
  return f;
}

Errc verify_token(const std::string& key, proto::Token::Reader t, uint64_t now_ms) {
  if (t.getFsid().size() != 16 || t.getMac().size() != 32) return Errc::bad_token;
  if (static_cast<uint16_t>(t.getMode()) > static_cast<uint16_t>(proto::AccessMode::APPEND))
    return Errc::bad_token;
  Digest want = compute_mac(key, token_fields(t));
  if (CRYPTO_memcmp(want.data(), t.getMac().begin(), 32) != 0) return Errc::bad_token;
  if (t.getExpiresMs() <= now_ms) return Errc::token_expired;
  return Errc::ok;
}

bool token_allows(proto::AccessMode granted, bool write) {
  switch (granted) {
    case proto::AccessMode::READ: return !write;
    case proto::AccessMode::WRITE:
    case proto::AccessMode::READ_WRITE:
    case proto::AccessMode::APPEND: return true;
  }
  return false;
}

}  // namespace zhsm
