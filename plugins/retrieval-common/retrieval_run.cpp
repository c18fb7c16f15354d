// retrieval — a run's context and the download of one message (see retrieval_run.h).
#include "retrieval_run.h"

#include <utility>

namespace portico::retrieval {

void RunContext::report(const RunOutcome& outcome) {
  if (reported) return;
  reported = true;
  if (finished) finished(outcome);
}

ClientSession::~ClientSession() {
  run_->report({false, run_->fetched, "the session ended early"});
}

void ClientSession::on_start() {
  ctx_.set_max_line_length(max_line_);
  ctx_.set_in_command(true);
}

void ClientSession::fail_run(std::string error) {
  run_->report({false, run_->fetched, std::move(error)});
  ctx_.close();
}

void Download::start(std::string key, std::string first) {
  key_ = std::move(key);
  pending_ = std::move(first);
  begun_ = false;
}

void Download::flush(sdk::SessionContext& ctx, const std::shared_ptr<RunContext>& run, bool last,
                     std::function<void(const std::string& error)> done) {
  ctx.pause_input();
  auto error = std::make_shared<std::string>();
  const bool begin = !std::exchange(begun_, true);
  ctx.post_work(
      [run, error, piece = std::move(pending_), key = key_, begin, last] {
        try {
          if (begin) run->spool->begin(key);
          run->spool->append(piece);
          if (last) {
            run->spool->commit();
            *error = run->spool->deliver(key, run->source, *run->store, *run->directory, false);
          }
        } catch (const std::exception& e) {
          run->spool->abandon();
          *error = e.what();
        }
      },
      [&ctx, error, done = std::move(done)] {
        ctx.resume_input();
        done(*error);
      });
  pending_.clear();
}

}  // namespace portico::retrieval
