// An empty source file: the target plexus_user_pch exists to precompile <plexus.hpp> once
// for the apps and docs examples (CMakeLists.txt).
