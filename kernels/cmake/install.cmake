# What `cmake --install` (and so the wheel) ships for programs that embed the
# C library: the public headers (not internal/, the test hooks), the static
# library, a CMake package (find_package(optkern CONFIG) gives
# optkern::optkern) and a pkg-config file (optkern.pc). In the wheel all of it
# sits inside the Python package, under optkern/ (optkern.get_include(),
# optkern.get_cmake_dir(), python -m optkern --cflags --libs); a plain CMake
# build installs it under the prefix's include/ and lib/. Every installed
# file finds the others relative to itself, so the tree moves with the venv.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(SKBUILD)
  set(OK_INSTALL_ROOT "${SKBUILD_PROJECT_NAME}/")
  set(OK_INSTALL_LIBDIR "${OK_INSTALL_ROOT}lib")
else()
  set(OK_INSTALL_ROOT "")
  set(OK_INSTALL_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
endif()
set(OK_INSTALL_INCLUDEDIR "${OK_INSTALL_ROOT}include")
set(OK_INSTALL_CMAKEDIR "${OK_INSTALL_LIBDIR}/cmake/optkern")
set(OK_INSTALL_PKGCONFIGDIR "${OK_INSTALL_LIBDIR}/pkgconfig")

install(DIRECTORY include/optkern "${OK_GENERATED_INCLUDE}/optkern"
        DESTINATION "${OK_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.h" PATTERN internal EXCLUDE)

install(TARGETS okcore EXPORT optkernTargets
        ARCHIVE DESTINATION "${OK_INSTALL_LIBDIR}"
        INCLUDES DESTINATION "${OK_INSTALL_INCLUDEDIR}")
install(EXPORT optkernTargets NAMESPACE optkern:: DESTINATION "${OK_INSTALL_CMAKEDIR}")

# What the library needs from its consumer's link, for the two files below.
# OpenMP is not in the exported target: it names OpenMP for C, and the config
# asks for the consumer's own language (a C++ project may not enable C).
if(OpenMP_C_FOUND)
  set(OK_OPENMP ON)
  set(OK_PC_LIBS "${OpenMP_C_FLAGS} ${CMAKE_THREAD_LIBS_INIT}")
else()
  set(OK_OPENMP OFF)
  set(OK_PC_LIBS "")
endif()
if(OK_LIBM)
  string(APPEND OK_PC_LIBS " -lm")
endif()
string(STRIP "${OK_PC_LIBS}" OK_PC_LIBS)
string(REGEX REPLACE " +" " " OK_PC_LIBS "${OK_PC_LIBS}")

configure_file(cmake/optkernConfig.cmake.in optkernConfig.cmake @ONLY)
# 0.x: a new minor version may change the API, so only the same MAJOR.MINOR matches.
write_basic_package_version_file(optkernConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/optkernConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/optkernConfigVersion.cmake"
        DESTINATION "${OK_INSTALL_CMAKEDIR}")

# pkg-config: the prefix relative to the .pc file's own folder.
file(RELATIVE_PATH OK_PC_PREFIX "/${OK_INSTALL_PKGCONFIGDIR}" "/${OK_INSTALL_ROOT}")
string(REGEX REPLACE "/$" "" OK_PC_PREFIX "${OK_PC_PREFIX}")
file(RELATIVE_PATH OK_PC_INCLUDEDIR "/${OK_INSTALL_ROOT}" "/${OK_INSTALL_INCLUDEDIR}")
file(RELATIVE_PATH OK_PC_LIBDIR "/${OK_INSTALL_ROOT}" "/${OK_INSTALL_LIBDIR}")
configure_file(cmake/optkern.pc.in optkern.pc @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/optkern.pc" DESTINATION "${OK_INSTALL_PKGCONFIGDIR}")
