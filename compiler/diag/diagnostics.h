// The diagnostics sink every compiler stage reports into: kinds from the one
// registry (kinds.def), source ranges through llvm::SourceMgr, notes and
// fix-its, and text / JSON / SARIF 2.1.0 output. Thread-safe for Report().
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace netdsl {

enum class Severity : uint8_t { Note, Warning, Error };

/// Every diagnostic netdslc can emit. Codes are stable: never renumber.
enum class DiagKind : uint16_t {
#define NETDSL_DIAG(NAME, CODE, SEVERITY, SUMMARY) NAME,
#include "compiler/diag/kinds.def"
#undef NETDSL_DIAG
};

struct DiagKindInfo {
  const char* name;     ///< `DuplicateName`
  unsigned code;        ///< 1234 for ND1234
  Severity severity;    ///< default severity
  const char* summary;  ///< one line for SARIF rule descriptions and `--list-diagnostics`
};
const DiagKindInfo& Info(DiagKind kind);
/// All registered kinds, in code order.
const std::vector<DiagKind>& AllDiagKinds();
/// "ND1234".
std::string CodeString(DiagKind kind);

struct DiagNote {
  llvm::SMRange range;  ///< may be invalid (no location)
  std::string message;
};

struct FixIt {
  llvm::SMRange range;
  std::string replacement;
};

struct Diagnostic {
  DiagKind kind;
  Severity severity;
  llvm::SMRange range;  ///< the offending value; invalid when there is no source location
  std::string message;  ///< lowercase, no trailing period, names in backticks
  std::vector<DiagNote> notes;
  std::vector<FixIt> fixits;
  /// A counterexample, hop by hop, in the form `netdslc explain` prints
  /// (`1. port 3: …`, …, `verdict: …`); empty for most diagnostics.
  std::vector<std::string> path;
};

class DiagnosticEngine;

/// Collects notes and fix-its; commits the diagnostic to the engine when destroyed.
class DiagBuilder {
 public:
  DiagBuilder(DiagnosticEngine* engine, Diagnostic d) : engine_(engine), d_(std::move(d)) {}
  DiagBuilder(DiagBuilder&& o) noexcept : engine_(o.engine_), d_(std::move(o.d_)) { o.engine_ = nullptr; }
  DiagBuilder(const DiagBuilder&) = delete;
  ~DiagBuilder();
  DiagBuilder& Note(llvm::SMRange range, std::string message) {
    d_.notes.push_back({range, std::move(message)});
    return *this;
  }
  DiagBuilder& Fix(llvm::SMRange range, std::string replacement) {
    d_.fixits.push_back({range, std::move(replacement)});
    return *this;
  }
  /// Reports at `severity` instead of the kind's default (a stage that
  /// demotes some of its findings, as `build` does with verify's liveness findings).
  DiagBuilder& As(Severity severity) {
    d_.severity = severity;
    return *this;
  }
  /// Attaches a counterexample path (see Diagnostic::path).
  DiagBuilder& Path(std::vector<std::string> hops) {
    d_.path = std::move(hops);
    return *this;
  }

 private:
  DiagnosticEngine* engine_;
  Diagnostic d_;
};

enum class DiagFormat { Text, Json, Sarif };

class DiagnosticEngine {
 public:
  explicit DiagnosticEngine(llvm::SourceMgr& sources) : sources_(sources) {}

  /// Reports `kind` at `range` with a message; add notes on the returned builder.
  DiagBuilder Report(DiagKind kind, llvm::SMRange range, std::string message);
  DiagBuilder Report(DiagKind kind, llvm::SMLoc loc, std::string message) {
    return Report(kind, llvm::SMRange(loc, loc), std::move(message));
  }

  /// Warnings become errors.
  void SetWarningsAsErrors(bool on) { werror_ = on; }
  bool HasErrors() const;
  unsigned ErrorCount() const;
  unsigned WarningCount() const;

  /// Sorted (file, offset, code, message) and deduplicated.
  std::vector<Diagnostic> Sorted() const;
  /// Prints all diagnostics; text is colored when `color`.
  void Emit(DiagFormat format, llvm::raw_ostream& os, bool color) const;

  llvm::SourceMgr& sources() { return sources_; }

 private:
  friend class DiagBuilder;
  void Commit(Diagnostic d);

  llvm::SourceMgr& sources_;
  mutable std::mutex mu_;
  std::vector<Diagnostic> diags_;
  bool werror_ = false;
};

}  // namespace netdsl
