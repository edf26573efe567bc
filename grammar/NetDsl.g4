// The netdsl language (SPEC §2): imports, blocks `kind label? { ... }` or
// `kind label;`, properties `key = value;`, values and lists. Literal kinds
// (integers, addresses, prefixes, MACs, bandwidths) are loose tokens here and
// are classified by the AST builder (compiler/syntax/) with the common/net
// parsers, which gives precise diagnostics for malformed ones.
grammar NetDsl;

// A whole file. `statement` (not just blocks) so that a stray property at the
// top level is reported by the AST builder with a precise message.
file : statement* EOF ;

statement
  : importDecl
  | property
  | block
  ;

importDecl : IMPORT (STRING | UNTERMINATED_STRING) SEMI ;

property : IDENT ASSIGN value SEMI ;

// `host rack1-h[01..40] { ... }`, `subnet 192.168.0.0/24;`, `gateway { ... }`.
block : IDENT label? nameRange? (LBRACE statement* RBRACE | SEMI) ;

label : scalar ;

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
UNTERMINATED_COMMENT : '/*' .*? EOF -> channel(HIDDEN) ;

WS : [ \t\r\n\f\uFEFF]+ -> skip ;

// Anything else: reported by the parse stage as an unexpected character.
ERROR_CHAR : . -> channel(HIDDEN) ;
