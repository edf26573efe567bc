// Builds a PowerShell script line by line with indentation, and the prologue
// (parameters, strict mode, transcript, idempotence helpers) both scripts share.
#pragma once

#include <string>
#include <string_view>

namespace netdsl::backends::ps {

class ScriptWriter {
 public:
  /// One line at the current indentation (empty text: an empty line).
  void Line(std::string_view text);
  /// A line that opens a block (`if (...) {`): following lines are indented.
  void Open(std::string_view text);
  /// Ends a block: dedents, then writes `text` (`}` or `} else {`).
  void Close(std::string_view text = "}");
  /// Dedents, writes `text` (`} else {`), indents again.
  void Reopen(std::string_view text);
  /// `# text` with `text` sanitized for a comment.
  void Comment(std::string_view text);

  /// Writes the header: description comment, `[CmdletBinding()]` param block
  /// (`-DryRun`, `-TranscriptPath`, plus `extra_params` lines), strict mode,
  /// the shared helper functions and `extra_helpers` (fixed text, no source
  /// text), and opens the transcript's try block.
  void Prologue(std::string_view title, std::string_view extra_params, std::string_view extra_helpers = {});
  /// Closes what Prologue opened and prints the change count.
  void Epilogue(std::string_view what);

  /// One converged object: `try {` … `} catch { throw '<kind> ''<name>'': …' }`.
  /// The name is passed to `-f` as a quoted argument, never interpolated.
  void BeginObject(std::string_view kind, std::string_view name);
  void EndObject(std::string_view kind, std::string_view name);

  /// The script as UTF-8 with a byte-order mark (Windows PowerShell 5.1 reads
  /// BOM-less files in the ANSI code page) and LF line ends.
  std::string Finish() const;

 private:
  std::string text_;
  int indent_ = 0;
};

}  // namespace netdsl::backends::ps
