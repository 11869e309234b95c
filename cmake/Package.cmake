# Installing and packaging.
#
#   cmake --install build/release [--prefix P]            everything below
#   cmake --install build/release --component runtime     the binary, man page, completions
#   cmake --install build/release --component devel       headers, static libraries, CMake config
#   (cd build/release && cpack)                           dynarep_<version>_<arch>.deb (runtime)
#
# The .deb holds the runtime component only: /usr/bin/dynarep, dynarep(1), the bash and zsh
# completions, and /usr/share/doc/dynarep/{copyright,changelog.gz}. Its Depends come from
# dpkg-shlibdeps over the binary, so they are exactly the Debian packages of the shared
# libraries it links (scripts/check-deploy.sh compares them with ldd + dpkg -S, runs lintian and
# installs the package into a scratch root).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# --- runtime --------------------------------------------------------------------------------
install(TARGETS dynarep RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${DYNAREP_GENERATED_DIR}/dynarep.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
install(FILES ${DYNAREP_GENERATED_DIR}/dynarep.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME dynarep COMPONENT runtime)
# Debian's zsh reads vendor completions from here (it is on its default $fpath).
install(FILES ${DYNAREP_GENERATED_DIR}/_dynarep DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
        COMPONENT runtime)

set(DYNAREP_PACKAGE_MAINTAINER "dynarep maintainers <maintainers@dynarep.invalid>"
    CACHE STRING "Maintainer field of the .deb (Name <email>)")
# The changelog's date: SOURCE_DATE_EPOCH when set (reproducible builds), else now.
string(TIMESTAMP DYNAREP_PACKAGE_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file(${CMAKE_SOURCE_DIR}/deploy/debian/changelog.in ${CMAKE_BINARY_DIR}/package/changelog @ONLY)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/package/changelog.gz
  COMMAND gzip -9nc ${CMAKE_BINARY_DIR}/package/changelog > ${CMAKE_BINARY_DIR}/package/changelog.gz
  DEPENDS ${CMAKE_BINARY_DIR}/package/changelog VERBATIM)
add_custom_target(dynarep_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/package/changelog.gz)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/debian/copyright ${CMAKE_BINARY_DIR}/package/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)

# --- devel: find_package(dynarep) -> dynarep::writer ------------------------------------------
# The replicated-table client and the modules below it; each keeps its headers' paths.
set(DYNAREP_EXPORTED_MODULES core crypto model http aws dynamodb kinesis stream writer)
foreach(m IN LISTS DYNAREP_EXPORTED_MODULES)
  install(TARGETS dynarep_${m} EXPORT dynarepTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/src/${m}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dynarep/${m}
          COMPONENT devel FILES_MATCHING PATTERN "*.h")
endforeach()
# Linked privately by every module (warnings); static libraries name it in their link
# interface, so it is exported too (it carries link options only for sanitizer builds).
install(TARGETS dynarep_options EXPORT dynarepTargets COMPONENT devel)
set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/dynarep)
install(EXPORT dynarepTargets NAMESPACE dynarep:: DESTINATION ${cmake_dir} COMPONENT devel)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/dynarepConfig.cmake.in
  ${CMAKE_BINARY_DIR}/package/dynarepConfig.cmake INSTALL_DESTINATION ${cmake_dir})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/package/dynarepConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/package/dynarepConfig.cmake ${CMAKE_BINARY_DIR}/package/dynarepConfigVersion.cmake
        DESTINATION ${cmake_dir} COMPONENT devel)

# --- CPack: the Debian 12 package --------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dynarep)
set(CPACK_PACKAGE_VENDOR "dynarep")
set(CPACK_PACKAGE_CONTACT "${DYNAREP_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "replicate, verify, repair, back up and restore DynamoDB tables")
# The extended description (CPack puts the summary above it and indents it); lines under 80.
string(JOIN "\n" CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "dynarep keeps Amazon DynamoDB tables redundant and recoverable: it replicates"
  "a primary table to replicas through a Kinesis change stream or a DynamoDB"
  "stream, proves replicas equal to the primary and repairs them, and backs"
  "tables up to S3 and restores them. It re-implements dynamodb-replicator and"
  "dyno.")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL runtime)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
include(CPack)
