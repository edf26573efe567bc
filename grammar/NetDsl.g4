// The netdsl language (SPEC §2): imports, blocks `kind label? { ... }` or
// `kind label;`, properties `key = value;`, values and lists. The parser is
// generated from this file; the lexer rules below are the specification of
// the tokens, implemented for speed by compiler/syntax/lexer.cpp and checked
// against the generated lexer by tests/unit/syntax. Literal kinds
// (integers, addresses, prefixes, MACs, bandwidths) are loose tokens here and
// are classified by the AST builder (compiler/syntax/) with the common/net
// parsers, which gives precise diagnostics for malformed ones.
grammar NetDsl;

// A whole file. Properties and imports are accepted everywhere so that a
// stray property at the top level or a nested import is reported by the AST
// builder with a precise message. (No `statement` rule: one parse-tree level
// less per statement matters for 100 MB fabrics.)
file : (importDecl | property | block)* EOF ;

importDecl : IMPORT (STRING | UNTERMINATED_STRING) SEMI ;

property : IDENT ASSIGN value SEMI ;

// `host rack1-h[01..40] { ... }`, `subnet 192.168.0.0/24;`, `gateway { ... }`.
// The label is a name or a value such as a prefix.
block : IDENT scalar? nameRange? (LBRACE (importDecl | property | block)* RBRACE | SEMI) ;

nameRange : LBRACK NUMBER DOTDOT NUMBER RBRACK ;

// `A - B` is a range; anything else a single scalar or a list.
value
  : scalar (MINUS scalar)?
  | list
  ;

list : LBRACK (value (COMMA value)* COMMA?)? RBRACK ;

scalar : IDENT | STRING | UNTERMINATED_STRING | NUMBER | COLON_WORD ;

IMPORT : 'import' ;

IDENT : [A-Za-z_] [A-Za-z0-9_.\-]* ;

// Integers, IPv4 addresses, prefixes, bandwidths: a digit, then word
// characters, `/`, and single dots (so `01..40` is NUMBER DOTDOT NUMBER).
NUMBER : [0-9] ( [0-9A-Za-z_/] | '.' [0-9A-Za-z_/] )* ;

// IPv6 addresses and prefixes, MAC addresses: anything with a colon.
COLON_WORD : [0-9A-Fa-f]* ':' [0-9A-Za-z:.]* ( '/' [0-9A-Za-z]* )? ;

STRING : '"' ( ESCAPE | ~["\\\r\n] )* '"' ;
UNTERMINATED_STRING : '"' ( ESCAPE | ~["\\\r\n] )* '\\'? ;
fragment ESCAPE : '\\' ~[\r\n] ;

ASSIGN : '=' ;
SEMI : ';' ;
COMMA : ',' ;
LBRACE : '{' ;
RBRACE : '}' ;
LBRACK : '[' ;
RBRACK : ']' ;
DOTDOT : '..' ;
MINUS : '-' ;

LINE_COMMENT : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
// No `*/` inside, so that a closed comment is never read as unterminated.
UNTERMINATED_COMMENT : '/*' ( ~'*' | '*'+ ~[*/] )* '*'* EOF -> channel(HIDDEN) ;

WS : [ \t\r\n\f\uFEFF]+ -> skip ;

// Anything else: reported by the parse stage as an unexpected character.
ERROR_CHAR : . -> channel(HIDDEN) ;
