// The embedded StateStore: SQLite in WAL mode, one transaction per call (state_store.h).
#include <sqlite3.h>

#include <memory>
#include <type_traits>
#include <unordered_map>

#include "engine/supervisor/state_store.h"

namespace mplane::supervisor {
namespace {

// queue.id is the rowid: one more than the largest present, so the queue's order holds among the
// rows present (the ids of rows already delivered may come again). No AUTOINCREMENT: its extra
// write to sqlite_sequence was a sixth of the core's time per relayed round trip.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS probes (identity TEXT PRIMARY KEY, capabilities TEXT NOT NULL,
  registered_us INTEGER NOT NULL, last_poll_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY, identity TEXT NOT NULL,
  json TEXT NOT NULL, queued_us INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS queue_identity ON queue (identity, id);
CREATE TABLE IF NOT EXISTS relay (component_token TEXT PRIMARY KEY, client_token TEXT NOT NULL,
  client_identity TEXT NOT NULL, component_identity TEXT NOT NULL, client_label TEXT NOT NULL,
  reply TEXT NOT NULL, updated_us INTEGER NOT NULL);
)sql";

// One prepared statement, reset after each use. Text parameters are bound as transient copies.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Statement& bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW or SQLITE_DONE; anything else is an error (see error()).
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

RelayEntry relay_from(const Statement& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.integer(6)};
}

class SqliteStore final : public StateStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override {
    statements_.clear();  // finalized before the connection closes
    sqlite3_close(db_);
  }
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status<> transaction(const std::function<Status<>()>& body) override {
    return in_transaction("commit", body);
  }

  Status<> begin_batch() override {
    if (depth_ > 0) return fail("a batch is already open");
    if (auto st = exec_checked("BEGIN IMMEDIATE"); !st) return st;
    depth_ = 1;
    return Ok{};
  }
  Status<> commit_batch() override {
    if (depth_ != 1) return fail("no batch is open");
    depth_ = 0;
    return exec_checked("COMMIT");
  }

  Status<> put_probe(const ProbeRecord& p) override {
    return run("register a probe", "INSERT OR REPLACE INTO probes VALUES (?1, ?2, ?3, ?4)",
               [&](Statement& s) {
                 s.bind(1, p.identity).bind(2, p.capabilities_json);
                 s.bind(3, p.registered_us).bind(4, p.last_poll_us);
               });
  }
  Status<> touch_probe(std::string_view identity, std::int64_t now_us) override {
    return run("note a poll", "UPDATE probes SET last_poll_us = ?2 WHERE identity = ?1",
               [&](Statement& s) { s.bind(1, identity).bind(2, now_us); });
  }
  Status<> remove_probe(std::string_view identity) override {
    return in_transaction("withdraw a probe", [&]() -> Status<> {
      auto bind = [&](Statement& s) { s.bind(1, identity); };
      if (auto st = run("withdraw a probe", "DELETE FROM queue WHERE identity = ?1", bind); !st) {
        return st;
      }
      return run("withdraw a probe", "DELETE FROM probes WHERE identity = ?1", bind);
    });
  }
  Result<std::vector<ProbeRecord>> probes() override {
    std::vector<ProbeRecord> out;
    auto st = query("list the probes", "SELECT * FROM probes ORDER BY identity", nullptr,
                    [&](Statement& s) {
                      out.push_back({s.text(0), s.text(1), s.integer(2), s.integer(3)});
                    });
    if (!st) return fail(st.error());
    return out;
  }

  Result<std::int64_t> enqueue(std::string_view identity, std::string_view json,
                               std::int64_t now_us) override {
    auto st =
        run("queue a message", "INSERT INTO queue (identity, json, queued_us) VALUES (?1, ?2, ?3)",
            [&](Statement& s) { s.bind(1, identity).bind(2, json).bind(3, now_us); });
    if (!st) return fail(st.error());
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
  }
  Status<> drop_queued(std::string_view identity, std::int64_t last_id) override {
    return run("drop delivered messages", "DELETE FROM queue WHERE identity = ?1 AND id <= ?2",
               [&](Statement& s) { s.bind(1, identity).bind(2, last_id); });
  }
  Result<std::vector<QueuedMessage>> queued() override {
    std::vector<QueuedMessage> out;
    auto st =
        query("read the queues", "SELECT id, identity, json, queued_us FROM queue ORDER BY id",
              nullptr, [&](Statement& s) {
                out.push_back({s.integer(0), s.text(1), s.text(2), s.integer(3)});
              });
    if (!st) return fail(st.error());
    return out;
  }
  Result<std::vector<QueuedMessage>> dequeue_all(std::string_view identity) override {
    std::vector<QueuedMessage> out;
    auto bind = [&](Statement& s) { s.bind(1, identity); };
    auto st = in_transaction("dequeue messages", [&]() -> Status<> {
      auto read = query("dequeue messages",
                        "SELECT id, identity, json, queued_us FROM queue WHERE identity = ?1 "
                        "ORDER BY id",
                        bind, [&](Statement& s) {
                          out.push_back({s.integer(0), s.text(1), s.text(2), s.integer(3)});
                        });
      if (!read) return read;
      return run("dequeue messages", "DELETE FROM queue WHERE identity = ?1", bind);
    });
    if (!st) return fail(st.error());
    return out;
  }

  Status<> put_relay(const RelayEntry& e) override {
    return run("store a relay entry",
               "INSERT OR REPLACE INTO relay VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
               [&](Statement& s) {
                 s.bind(1, e.component_token).bind(2, e.client_token).bind(3, e.client_identity);
                 s.bind(4, e.component_identity).bind(5, e.client_label);
                 s.bind(6, e.reply_json).bind(7, e.updated_us);
               });
  }
  Status<> set_reply(std::string_view component_token, std::string_view reply_json,
                     std::int64_t now_us) override {
    return run(
        "store a reply", "UPDATE relay SET reply = ?2, updated_us = ?3 WHERE component_token = ?1",
        [&](Statement& s) { s.bind(1, component_token).bind(2, reply_json).bind(3, now_us); });
  }
  Status<> remove_relay(std::string_view component_token) override {
    return run("forget a relay entry", "DELETE FROM relay WHERE component_token = ?1",
               [&](Statement& s) { s.bind(1, component_token); });
  }
  Result<std::optional<RelayEntry>> relay_for_component_token(std::string_view token) override {
    std::optional<RelayEntry> out;
    auto st = query(
        "find a relay entry", "SELECT * FROM relay WHERE component_token = ?1",
        [&](Statement& s) { s.bind(1, token); }, [&](Statement& s) { out = relay_from(s); });
    if (!st) return fail(st.error());
    return out;
  }
  Result<std::vector<RelayEntry>> relays() override {
    std::vector<RelayEntry> out;
    auto st = query("read the relay entries", "SELECT * FROM relay ORDER BY updated_us", nullptr,
                    [&](Statement& s) { out.push_back(relay_from(s)); });
    if (!st) return fail(st.error());
    return out;
  }
  Result<std::size_t> expire_relays(std::int64_t before_us) override {
    auto st = run("expire replies", "DELETE FROM relay WHERE updated_us < ?1",
                  [&](Statement& s) { s.bind(1, before_us); });
    if (!st) return fail(st.error());
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }

 private:
  template <class Bind>
  Status<> run(const char* what, const char* sql, Bind bind) {
    return query(what, sql, bind, [](Statement&) {});
  }
  // Runs `sql` with `bind`, calling `row` for every result row. Statements are prepared once
  // and kept (keyed by the SQL literal's address).
  template <class Bind, class Row>
  Status<> query(const char* what, const char* sql, Bind bind, Row row) {
    auto& slot = statements_[sql];
    if (!slot) slot = std::make_unique<Statement>(db_, sql);
    Statement& s = *slot;
    if (!s.ok()) {
      slot.reset();
      return fail(std::string("cannot ") + what + ": " + sqlite3_errmsg(db_));
    }
    if constexpr (!std::is_same_v<Bind, std::nullptr_t>) bind(s);
    int rc = SQLITE_ROW;
    while ((rc = s.step()) == SQLITE_ROW) row(s);
    s.reset();
    if (rc != SQLITE_DONE) return fail(std::string("cannot ") + what + ": " + s.error());
    return Ok{};
  }
  // Transaction control (BEGIN, SAVEPOINT, COMMIT...), prepared once as the rest: parsing it
  // again on every call was a fifth of a relayed round trip's time in the core.
  Status<> exec_checked(const char* sql) { return run(sql, sql, nullptr); }
  template <class Body>
  Status<> in_transaction(const char* what, Body body) {
    if (depth_ > 0) {  // joins the outer transaction; undone alone if it fails
      if (auto st = exec_checked("SAVEPOINT inner"); !st) return st;
      ++depth_;
      Status<> st = body();
      --depth_;
      if (!st) (void)exec_checked("ROLLBACK TO inner");
      (void)exec_checked("RELEASE inner");
      return st;
    }
    if (auto begun = exec_checked("BEGIN IMMEDIATE"); !begun) {
      return fail(std::string("cannot ") + what + ": " + begun.error());
    }
    ++depth_;
    Status<> st = body();
    --depth_;
    auto ended = exec_checked(st ? "COMMIT" : "ROLLBACK");
    if (!ended && st) return fail(std::string("cannot ") + what + ": " + ended.error());
    return st;
  }

  sqlite3* db_;
  std::unordered_map<const char*, std::unique_ptr<Statement>> statements_;
  int depth_ = 0;
};

Status<> exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return Ok{};
  std::string why = message ? message : sqlite3_errmsg(db);
  sqlite3_free(message);
  return fail(std::move(why));
}

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  auto store = std::make_unique<SqliteStore>(db);  // closes `db` on every path
  if (rc != SQLITE_OK) return fail(path + ": " + sqlite3_errstr(rc));
  // One supervisor per file: the exclusive lock is taken by the first write below.
  for (const char* sql : {"PRAGMA locking_mode = EXCLUSIVE", "PRAGMA journal_mode = WAL",
                          "PRAGMA synchronous = NORMAL", kSchema}) {
    if (auto st = exec(db, sql); !st) return fail(path + ": " + st.error());
  }
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace mplane::supervisor
