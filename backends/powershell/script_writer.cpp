// ScriptWriter: indentation, the shared prologue and per-object error wrapping.
#include "backends/powershell/script_writer.h"

#include "backends/powershell/ps_text.h"

namespace netdsl::backends::ps {

void ScriptWriter::Line(std::string_view text) {
  if (!text.empty()) text_.append(static_cast<size_t>(indent_) * 2, ' ');
  text_.append(text);
  text_ += '\n';
}

void ScriptWriter::Open(std::string_view text) {
  Line(text);
  ++indent_;
}

void ScriptWriter::Close(std::string_view text) {
  if (indent_ > 0) --indent_;
  Line(text);
}

void ScriptWriter::Reopen(std::string_view text) {
  Close(text);
  ++indent_;
}

void ScriptWriter::Comment(std::string_view text) { Line("# " + CommentText(text)); }

// Helpers every generated script defines. Their names avoid the prefixes that
// pscheck treats as networking cmdlets, and none of them contains source text.
static constexpr std::string_view kHelpers = R"PS(# Records one change; returns $true when it should be applied (not a dry run).
function Confirm-NdChange {
  param([string]$Action, [string]$Kind, [string]$Name)
  $script:NdChanges++
  if ($script:NdDryRun) {
    Write-Host ('[dry run] would {0} {1} ''{2}''' -f $Action, $Kind, $Name)
    return $false
  }
  Write-Host ('{0} {1} ''{2}''' -f $Action, $Kind, $Name)
  return $true
}

# The one object in $Found, $null if none; more than one is an error.
function Select-NdOne {
  param($Found, [string]$Kind, [string]$Name)
  $all = @($Found | Where-Object { $null -ne $_ })
  if ($all.Count -gt 1) {
    throw ('{0} ''{1}'' is ambiguous: {2} objects have this name' -f $Kind, $Name, $all.Count)
  }
  if ($all.Count -eq 0) { return $null }
  return $all[0]
}

# A property's value, or $null with a warning when the object lacks it.
function Get-NdValue {
  param($Object, [string]$Property)
  if ($null -eq $Object) { return $null }
  $p = $Object.PSObject.Properties[$Property]
  if ($null -eq $p) {
    Write-Warning ('cannot read property {0}; it is left as it is' -f $Property)
    return $null
  }
  return $p.Value
}

# A value (scalar or list) in one comparable text form: sorted, '|'-joined.
function ConvertTo-NdComparable {
  param($Value)
  if ($null -eq $Value) { return '' }
  return ((@($Value | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ }) | Sort-Object) -join '|')
}

# $true when the object's property differs from the desired value(s); a
# $null object (a setting not made yet) differs. A missing property counts
# as equal, with a warning: the script never sets what it cannot compare.
function Test-NdDiffers {
  param($Object, [string]$Property, $Desired)
  if ($null -eq $Object) { return $true }
  if ($null -eq $Object.PSObject.Properties[$Property]) {
    Write-Warning ('cannot compare property {0}; it is left as it is' -f $Property)
    return $false
  }
  return ((ConvertTo-NdComparable $Object.PSObject.Properties[$Property].Value) -ne (ConvertTo-NdComparable $Desired))
}

# The names of objects (VMM objects all have Name).
function Get-NdNames {
  param($Objects)
  return @($Objects | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_.Name })
}

# $true when the names of the objects in a property differ from $Desired.
function Test-NdNamesDiffer {
  param($Object, [string]$Property, [string[]]$Desired)
  if ($null -eq $Object.PSObject.Properties[$Property]) {
    Write-Warning ('cannot compare property {0}; it is left as it is' -f $Property)
    return $false
  }
  return ((ConvertTo-NdComparable (Get-NdNames $Object.PSObject.Properties[$Property].Value)) -ne (ConvertTo-NdComparable $Desired))
}

# An object's identity for set comparisons: its ID when it has one, else its name.
function Get-NdKey {
  param($Object)
  $id = $Object.PSObject.Properties['ID']
  if ($null -ne $id) { return [string]$id.Value }
  return [string]$Object.Name
}

# The objects of $From that are not among $Other (by ID, else by name).
function Select-NdMissing {
  param($From, $Other)
  $keys = @($Other | Where-Object { $null -ne $_ } | ForEach-Object { Get-NdKey $_ })
  return @($From | Where-Object { $null -ne $_ -and $keys -notcontains (Get-NdKey $_) })
}

# $true when the subnet/VLAN pairs in a property differ from $Desired
# ('prefix@vlan' strings).
function Test-NdSubnetVlansDiffer {
  param($Object, [string]$Property, [string[]]$Desired)
  if ($null -eq $Object.PSObject.Properties[$Property]) {
    Write-Warning ('cannot compare property {0}; it is left as it is' -f $Property)
    return $false
  }
  $actual = @($Object.PSObject.Properties[$Property].Value | Where-Object { $null -ne $_ } | ForEach-Object { '{0}@{1}' -f $_.Subnet, $_.VLanID })
  return ((ConvertTo-NdComparable $actual) -ne (ConvertTo-NdComparable $Desired))
}

# $true when a static IP pool's default gateways (their addresses) differ from $Desired.
function Test-NdGatewaysDiffer {
  param($Object, [string[]]$Desired)
  if ($null -eq $Object.PSObject.Properties['DefaultGateways']) {
    Write-Warning 'cannot compare property DefaultGateways; it is left as it is'
    return $false
  }
  $actual = @($Object.PSObject.Properties['DefaultGateways'].Value | Where-Object { $null -ne $_ } | ForEach-Object { [string](Get-NdValue $_ 'IPAddress') })
  return ((ConvertTo-NdComparable $actual) -ne (ConvertTo-NdComparable $Desired))
}
)PS";

void ScriptWriter::Prologue(std::string_view title, std::string_view extra_params, std::string_view extra_helpers) {
  Comment(title);
  Line("# Generated by netdslc. Idempotent: every object is looked up first,");
  Line("# created when absent, updated only where it differs, and left alone");
  Line("# otherwise; a second run changes nothing. -DryRun (or -WhatIf) only");
  Line("# reports what would change. The first error stops the script.");
  Line("[CmdletBinding(SupportsShouldProcess = $true)]");
  Open("param(");
  Line("[switch]$DryRun,");
  if (!extra_params.empty()) Line(extra_params);
  Line("[string]$TranscriptPath = ''");
  Close(")");
  Line("");
  Line("Set-StrictMode -Version Latest");
  Line("$ErrorActionPreference = 'Stop'");
  Line("$script:NdDryRun = $DryRun.IsPresent -or [bool]$WhatIfPreference");
  Line("$script:NdChanges = 0");
  Line("");
  text_.append(kHelpers);
  if (!extra_helpers.empty()) {
    Line("");
    text_.append(extra_helpers);
  }
  Line("");
  Line("if ($TranscriptPath -ne '') { Start-Transcript -Path $TranscriptPath -Append | Out-Null }");
  Open("try {");
}

void ScriptWriter::Epilogue(std::string_view what) {
  Line("");
  Open("if ($script:NdDryRun) {");
  Line("Write-Host ('" + std::string(what) + ": {0} change(s) would be made' -f $script:NdChanges)");
  Reopen("} else {");
  Line("Write-Host ('" + std::string(what) + ": {0} change(s) made' -f $script:NdChanges)");
  Close("}");
  Reopen("} finally {");
  Line("if ($TranscriptPath -ne '') { Stop-Transcript | Out-Null }");
  Close("}");
}

void ScriptWriter::BeginObject(std::string_view kind, std::string_view name) {
  Line("");
  Comment(std::string(kind) + " " + std::string(name));
  Open("try {");
}

void ScriptWriter::EndObject(std::string_view kind, std::string_view name) {
  Reopen("} catch {");
  Line("throw ('{0} ''{1}'': {2}' -f " + Quote(kind) + ", " + Quote(name) + ", $_.Exception.Message)");
  Close("}");
}

std::string ScriptWriter::Finish() const { return "\xEF\xBB\xBF" + text_; }

}  // namespace netdsl::backends::ps
