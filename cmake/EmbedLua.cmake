# EmbedLua.cmake - turn the Functions library (store_functions.lua) into a C source:
#   cmake -DIN=file.lua -DOUT=file.c -DVERSION=N -P EmbedLua.cmake
# The text goes in as a byte array (no escaping to get wrong), with @CW_STORE_FUNCTIONS_VERSION@
# replaced by VERSION, the one place the library version is set (daemon/CMakeLists.txt).
file(READ "${IN}" text)
string(REPLACE "@CW_STORE_FUNCTIONS_VERSION@" "${VERSION}" text "${text}")
file(WRITE "${OUT}.tmp.lua" "${text}")
file(READ "${OUT}.tmp.lua" hex HEX)
file(REMOVE "${OUT}.tmp.lua")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n"
       bytes "${bytes}")
file(WRITE "${OUT}"
     "/* generated from store_functions.lua by cmake/EmbedLua.cmake: do not edit */\n"
     "const int cw_store_functions_version = ${VERSION};\n"
     "const char cw_store_functions_lua[] = {\n${bytes}0x00};\n")
