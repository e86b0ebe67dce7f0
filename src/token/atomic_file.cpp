#include "token/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace waitroom::token {
namespace {

std::string errno_text(std::string_view what, const std::filesystem::path& file, int err) {
  std::string text(what);
  text += ' ';
  text += file.string();
  text += ": ";
  text += std::strerror(err);
  return text;
}

// Closes a descriptor on every exit path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now so the caller sees close() errors (they can report lost writes on NFS).
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

core::Result<void> write_file_atomically(const std::filesystem::path& file, std::string_view bytes,
                                         mode_t mode, IfExists if_exists) {
  // A unique temp name: concurrent writers (server and CLI) must never share one temp file.
  std::random_device random;
  std::filesystem::path temp = file;
  temp += ".tmp." + std::to_string(::getpid()) + '.' + std::to_string(random());

  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return core::fail(core::ErrorCode::internal, errno_text("create", temp, errno));
  auto discard = [&](std::string_view what) {
    const int err = errno;
    ::unlink(temp.c_str());
    return core::fail(core::ErrorCode::internal, errno_text(what, temp, err));
  };
  // open() honours the umask; key files must have exactly `mode`.
  if (::fchmod(fd.get(), mode) != 0) return discard("chmod");
  if (!write_all(fd.get(), bytes)) return discard("write");
  if (::fsync(fd.get()) != 0) return discard("fsync");
  if (fd.close() != 0) return discard("close");
  if (if_exists == IfExists::replace) {
    if (::rename(temp.c_str(), file.c_str()) != 0) return discard("rename");
  } else {
    // link() fails with EEXIST instead of replacing: the first creator wins.
    if (::link(temp.c_str(), file.c_str()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      if (err == EEXIST) return core::fail(core::ErrorCode::conflict, file.string() + " exists");
      return core::fail(core::ErrorCode::internal, errno_text("link", file, err));
    }
    ::unlink(temp.c_str());
  }

  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
    return core::fail(core::ErrorCode::internal, errno_text("fsync directory", dir, errno));
  }
  return {};
}

core::Result<std::string> read_small_file(const std::filesystem::path& file,
                                          std::size_t max_bytes) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    return core::fail(err == ENOENT ? core::ErrorCode::not_found : core::ErrorCode::internal,
                      errno_text("open", file, err));
  }
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return core::fail(core::ErrorCode::internal, errno_text("read", file, errno));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      return core::fail(core::ErrorCode::internal,
                        file.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return out;
}

}  // namespace waitroom::token
