# Renders one man page source: @NETDSL_VERSION@ and @SCHEMA_BLOCKS@ replaced.
# cmake -DIN=src -DOUT=dst -DVERSION=x.y.z -DSCHEMA=blocks.roff -P render.cmake
file(READ ${IN} text)
string(REPLACE "@NETDSL_VERSION@" "${VERSION}" text "${text}")
if(text MATCHES "@SCHEMA_BLOCKS@")
  file(READ ${SCHEMA} blocks)
  string(REGEX REPLACE "\n$" "" blocks "${blocks}")
  string(REPLACE "@SCHEMA_BLOCKS@" "${blocks}" text "${text}")
endif()
file(WRITE ${OUT}.tmp "${text}")
file(RENAME ${OUT}.tmp ${OUT})
