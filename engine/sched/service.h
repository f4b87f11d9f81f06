// The measurement service interface: one service owns one capability and runs the
// specifications that fulfil it (issue 3, "Services").
//
// Threading: a service is created at start-up and then used on one shard only, on the shard's
// loop: start() returns at once and the job completes later through ctx.finish() / ctx.fail(),
// driven by ctx.at() timers (scheduler time, so tests run on a manual clock) or by sockets on
// ctx.loop(). Nothing blocks: long work is cut into batches that yield with ctx.at(ctx.now()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "parsers/mplane/message.h"

struct uv_loop_s;

namespace mplane::sched {

using model::MicrosSinceEpoch;

// Identifies a timer set with JobContext::at().
using TimerId = std::uint64_t;

// What a running job exposes to its service. Owned by the scheduler; valid from start() until
// the job completes (finish/fail).
class JobContext {
 public:
  virtual ~JobContext() = default;

  // The specification being run: for a repeated specification, the sub-specification of one
  // occurrence (its `when` is the occurrence's scope).
  virtual const model::Message& specification() const = 0;
  // Wall-clock UTC "now" as the scheduler last saw it (for the measured interval).
  virtual MicrosSinceEpoch now() const = 0;
  // When the run began (wall-clock UTC).
  virtual MicrosSinceEpoch started_at() const = 0;
  // Set by a client interrupt or by the end of the scope.
  virtual bool interrupted() const = 0;

  // Appends one result row: one value per result column of the specification, in order.
  // String values are copied.
  virtual void add_row(std::span<const model::Value> row) = 0;
  // Rows added so far.
  virtual std::size_t row_count() const = 0;
  // True while the client that takes this job's rows is behind (a large streamed result): a
  // service that can wait stops adding rows and returns; Service::resume() tells it to go on.
  // Services that cannot wait (live capture) just go on adding rows.
  virtual bool paused() = 0;

  // Completes the job. `measured` is the definite interval actually
  // measured; by default, from the start of the run to now. Idempotent.
  virtual void finish(std::optional<model::When> measured = std::nullopt) = 0;
  // Completes the job with an error: the reply becomes an exception with this text.
  virtual void fail(std::string message) = 0;

  // Calls fn at wall-clock time t (or at once if t is past), on the shard. Timers of a job
  // are cancelled when it completes.
  virtual TimerId at(MicrosSinceEpoch t, std::function<void()> fn) = 0;
  virtual void cancel(TimerId id) = 0;

  // The shard's loop, for sockets; null when the scheduler runs without one (unit tests).
  virtual uv_loop_s* loop() const = 0;

  // Adds (or replaces) a metadata item of the result, e.g. the quality of a capture. Values
  // are copied. A result streamed to its client has written its metadata already: items set
  // after the stream began do not reach that client.
  virtual void set_metadata(const model::Element* element, model::Value value) = 0;
};

class Service {
 public:
  virtual ~Service() = default;
  // The capability this service implements (owned by the service, alive as long as it).
  virtual const model::Message& capability() const = 0;
  // A short name for logs and configuration ("loopback", "ping-average-ip4", …).
  virtual std::string name() const = 0;

  // Begins running; returns at once.
  virtual void start(JobContext& ctx) = 0;
  // The job was interrupted (client interrupt or end of scope): stop timers and
  // sockets, then call ctx.finish() with what was measured so far.
  virtual void interrupt(JobContext& ctx) { ctx.finish(); }
  // True for services whose jobs end by themselves (a file read to its end, N rows out): the
  // end of a singleton scope (`now`, an instant), which comes as soon as the job starts, does
  // not interrupt them — a singleton asks for one whole run. A client interrupt, or the end of
  // a scope with an end time or a duration, still does. False (the RI's rule): the end of any
  // scope interrupts.
  virtual bool ends_by_itself() const { return false; }
  // After paused() returned true, the consumer has caught up: add rows again.
  virtual void resume(JobContext& /*ctx*/) {}
};

using ServicePtr = std::unique_ptr<Service>;

}  // namespace mplane::sched
