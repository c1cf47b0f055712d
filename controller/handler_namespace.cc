// Namespace requests of ControllerHandler: lookup, getattr, setattr, mknod, mkdir,
// symlink, link, unlink, rmdir, rename, readlink, readdir and the xattr calls. Each reads
// its arguments, makes one store call on the database pool and fills the answer.
#include "common/error.h"
#include "controller/controller_handler.h"
#include "controller/proto_convert.h"

namespace zhsm {

awaitable<void> ControllerHandler::handle_namespace(proto::Request::Reader req,
                                                    proto::Response::Builder resp) {
  using W = proto::Request::Which;
  MetaStore& store = service_.store();
  switch (req.which()) {
    case W::LOOKUP: {
      auto r = req.getLookup();
      uint64_t parent = r.getParent();
      std::string name = bytes_arg(r.getName());
      if (auto attr = store.peek_lookup(parent, name)) {
        fill_attr(resp.initAttr(), *attr);
        co_return;
      }
      fill_attr(resp.initAttr(), co_await service_.db([&] { return store.lookup(parent, name); }));
      co_return;
    }
    case W::GETATTR: {
      uint64_t ino = req.getGetattr().getIno();
      if (auto attr = store.peek_getattr(ino)) {
        fill_attr(resp.initAttr(), *attr);
        co_return;
      }
      fill_attr(resp.initAttr(), co_await service_.db([&] { return store.getattr(ino); }));
      co_return;
    }
    case W::SETATTR: {
      SetattrArgs args = setattr_arg(req.getSetattr());
      fill_attr(resp.initAttr(), co_await service_.db([&] { return store.setattr(args); }));
      co_return;
    }
    case W::MKNOD: {
      auto r = req.getMknod();
      NodeArgs args;
      args.parent = r.getParent();
      args.name = bytes_arg(r.getName());
      args.type = r.getType();
      args.mode = r.getMode();
      args.rdev = r.getRdev();
      args.caller = caller_arg(r.getCaller());
      co_await before_add(args.parent);
      NodeResult node = co_await service_.db([&] { return store.mknod(args); });
      fill_attr(resp.initAttr(), node);
      fill_touched(resp, node.dirs);
      co_return;
    }
    case W::MKDIR: {
      auto r = req.getMkdir();
      NodeArgs args;
      args.parent = r.getParent();
      args.name = bytes_arg(r.getName());
      args.mode = r.getMode();
      args.caller = caller_arg(r.getCaller());
      co_await before_add(args.parent);
      const uint64_t since = service_.leases().epoch();
      NodeResult node = co_await service_.db([&] { return store.mkdir(args); });
      fill_attr(resp.initAttr(), node);
      resp.setLeaseMs(grant_lease(node.ino, since));
      fill_touched(resp, node.dirs);
      co_return;
    }
    case W::SYMLINK: {
      auto r = req.getSymlink();
      NodeArgs args;
      args.parent = r.getParent();
      args.name = bytes_arg(r.getName());
      args.symlink_target = bytes_arg(r.getTarget());
      args.caller = caller_arg(r.getCaller());
      co_await before_add(args.parent);
      NodeResult node = co_await service_.db([&] { return store.symlink(args); });
      fill_attr(resp.initAttr(), node);
      fill_touched(resp, node.dirs);
      co_return;
    }
    case W::LINK: {
      auto r = req.getLink();
      uint64_t ino = r.getIno();
      uint64_t parent = r.getNewParent();
      std::string name = bytes_arg(r.getNewName());
      co_await before_add(parent);
      NodeResult node = co_await service_.db([&] { return store.link(ino, parent, name); });
      fill_attr(resp.initAttr(), node);
      fill_touched(resp, node.dirs);
      co_return;
    }
    case W::UNLINK:
    case W::RMDIR: {
      bool dir = req.which() == W::RMDIR;
      auto r = dir ? req.getRmdir() : req.getUnlink();
      uint64_t parent = r.getParent();
      std::string name = bytes_arg(r.getName());
      RemoveResult removed = co_await service_.db(
          [&] { return dir ? store.rmdir(parent, name) : store.unlink(parent, name); });
      resp.setDone();
      fill_touched(resp, removed.dirs);
      co_return;
    }
    case W::RENAME: {
      RenameArgs args = rename_arg(req.getRename());
      if (!args.exchange) co_await before_add(args.new_parent);  // an exchange adds no name
      RenameResult renamed = co_await service_.db([&] { return store.rename(args); });
      resp.setDone();
      fill_touched(resp, renamed.dirs);
      co_return;
    }
    case W::READLINK: {
      uint64_t ino = req.getReadlink().getIno();
      std::string target = co_await service_.db([&] { return store.readlink(ino); });
      resp.setReadlink(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(target.data()),
                                           target.size()));
      co_return;
    }
    case W::READDIR: {
      auto r = req.getReaddir();
      uint64_t ino = r.getIno();
      uint64_t after = r.getAfter();
      uint32_t max = r.getMaxEntries();
      DirPage page = co_await service_.db([&] { return store.readdir(ino, after, max); });
      auto out = resp.initReaddir();
      out.setEof(page.eof);
      out.setParentIno(page.parent_ino);
      auto entries = out.initEntries(page.entries.size());
      for (size_t i = 0; i < page.entries.size(); ++i) {
        const auto& e = page.entries[i];
        entries[i].setName(capnp::Data::Reader(
            reinterpret_cast<const capnp::byte*>(e.name.data()), e.name.size()));
        entries[i].setCookie(e.cookie);
        fill_attr(entries[i].initAttr(), e.attr);
      }
      co_return;
    }
    case W::SETXATTR: {
      auto r = req.getSetxattr();
      uint64_t ino = r.getIno();
      std::string name = bytes_arg(r.getName());
      std::string value = bytes_arg(r.getValue());
      bool create = r.getCreate();
      bool replace = r.getReplace();
      co_await service_.db([&] { store.setxattr(ino, name, value, create, replace); });
      resp.setDone();
      co_return;
    }
    case W::GETXATTR: {
      auto r = req.getGetxattr();
      uint64_t ino = r.getIno();
      std::string name = bytes_arg(r.getName());
      std::string value;
      if (auto known = store.peek_getxattr(ino, name))
        value = std::move(*known);
      else  // (no co_await inside ?: — doc/architecture.md, "Coroutines and GCC 12")
        value = co_await service_.db([&] { return store.getxattr(ino, name); });
      resp.setXattr(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(value.data()),
                                        value.size()));
      co_return;
    }
    case W::LISTXATTR: {
      uint64_t ino = req.getListxattr().getIno();
      auto names = co_await service_.db([&] { return store.listxattr(ino); });
      auto out = resp.initXattrNames(names.size());
      for (size_t i = 0; i < names.size(); ++i)
        out.set(i, capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(names[i].data()),
                                       names[i].size()));
      co_return;
    }
    case W::REMOVEXATTR: {
      auto r = req.getRemovexattr();
      uint64_t ino = r.getIno();
      std::string name = bytes_arg(r.getName());
      co_await service_.db([&] { store.removexattr(ino, name); });
      resp.setDone();
      co_return;
    }
    default:
      throw Error(Errc::internal, "handle_namespace called for another request kind");
  }
}

}  // namespace zhsm
