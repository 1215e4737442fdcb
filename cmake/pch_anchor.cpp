// An empty source file: the targets plexus_user_pch and plexus_apps_pch exist to
// precompile <plexus.hpp> (and the apps' CLI11) once for the programs built here
// (CMakeLists.txt).
