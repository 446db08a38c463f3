# obs-velora: SPDX-License-Identifier: GPL-2.0-or-later
#
# Which Qt major(s) to build the dock for.
#
#   VELORA_QT=AUTO (default)  the Qt of the OBS installed on this machine
#                             (`ldd $(command -v obs)`); without an OBS, Qt 6
#                             when its dev files exist, else Qt 5.
#   VELORA_QT=5 | 6           that one.
#   VELORA_BUILD_BOTH=ON      both, when both dev packages exist (Debian 12:
#                             qtbase5-dev and qt6-base-dev); overrides VELORA_QT.
#
# Sets VELORA_DOCK_QT_MAJORS (a list of 5 and/or 6) and finds those Qt packages.

# Qt 5.15 and Qt 6 both define the version-less Qt::Core etc.; with both in
# one project they would collide. We only use Qt5::/Qt6:: targets.
set(QT_NO_CREATE_VERSIONLESS_TARGETS ON)

# velora_find_qt(<5|6> <out>): finds Qt<N> Core/Gui/Widgets quietly; <out> is TRUE/FALSE.
macro(velora_find_qt qt out)
  if(${qt} EQUAL 5)
    find_package(Qt5 5.15 QUIET COMPONENTS Core Gui Widgets)
    set(${out} ${Qt5Widgets_FOUND})
  else()
    find_package(Qt6 6.2 QUIET COMPONENTS Core Gui Widgets)
    set(${out} ${Qt6Widgets_FOUND})
  endif()
  if(NOT ${out})
    set(${out} FALSE)
  endif()
endmacro()

# velora_obs_qt_major(<out>): 5 or 6 from the installed OBS, or "" when unknown.
function(velora_obs_qt_major out)
  set(major "")
  find_program(VELORA_OBS_EXECUTABLE obs DOC "OBS Studio, inspected to pick the dock's Qt")
  find_program(VELORA_LDD ldd)
  if(VELORA_OBS_EXECUTABLE AND VELORA_LDD)
    execute_process(COMMAND ${VELORA_LDD} ${VELORA_OBS_EXECUTABLE}
                    OUTPUT_VARIABLE deps ERROR_QUIET RESULT_VARIABLE rc)
    if(rc EQUAL 0)
      if(deps MATCHES "libQt6(Core|Widgets)")
        set(major 6)
      elseif(deps MATCHES "libQt5(Core|Widgets)")
        set(major 5)
      endif()
    endif()
  endif()
  set(${out} "${major}" PARENT_SCOPE)
endfunction()

set(_velora_dev_hint_5 "qtbase5-dev (Debian/Ubuntu)")
set(_velora_dev_hint_6 "qt6-base-dev (Debian/Ubuntu)")

set(VELORA_DOCK_QT_MAJORS "")
if(VELORA_BUILD_BOTH)
  foreach(qt 5 6)
    velora_find_qt(${qt} _found)
    if(_found)
      list(APPEND VELORA_DOCK_QT_MAJORS ${qt})
    else()
      message(WARNING "VELORA_BUILD_BOTH: Qt ${qt} development files not found "
                      "(install ${_velora_dev_hint_${qt}}): velora-dock-qt${qt} is not built")
    endif()
  endforeach()
elseif(VELORA_QT STREQUAL "5" OR VELORA_QT STREQUAL "6")
  velora_find_qt(${VELORA_QT} _found)
  if(NOT _found)
    message(FATAL_ERROR "VELORA_QT=${VELORA_QT}: Qt ${VELORA_QT} development files not found "
                        "(install ${_velora_dev_hint_${VELORA_QT}} or set Qt${VELORA_QT}_DIR)")
  endif()
  set(VELORA_DOCK_QT_MAJORS ${VELORA_QT})
elseif(VELORA_QT STREQUAL "AUTO")
  velora_obs_qt_major(_obs_qt)
  if(_obs_qt)
    velora_find_qt(${_obs_qt} _found)
    if(NOT _found)
      message(FATAL_ERROR "The installed OBS (${VELORA_OBS_EXECUTABLE}) uses Qt ${_obs_qt}, whose "
                          "development files are missing: install ${_velora_dev_hint_${_obs_qt}}, "
                          "or choose with -DVELORA_QT=5|6")
    endif()
    set(VELORA_DOCK_QT_MAJORS ${_obs_qt})
    message(STATUS "obs-velora: OBS at ${VELORA_OBS_EXECUTABLE} uses Qt ${_obs_qt}")
  else()
    velora_find_qt(6 _found6)
    if(_found6)
      set(VELORA_DOCK_QT_MAJORS 6)
    else()
      velora_find_qt(5 _found5)
      if(_found5)
        set(VELORA_DOCK_QT_MAJORS 5)
      endif()
    endif()
    if(NOT VELORA_DOCK_QT_MAJORS)
      message(FATAL_ERROR "No Qt development files found: install ${_velora_dev_hint_6} "
                          "and/or ${_velora_dev_hint_5}")
    endif()
    message(STATUS "obs-velora: no OBS found; building the dock for Qt ${VELORA_DOCK_QT_MAJORS}")
  endif()
else()
  message(FATAL_ERROR "VELORA_QT must be AUTO, 5 or 6 (got '${VELORA_QT}')")
endif()

if(NOT VELORA_DOCK_QT_MAJORS)
  message(FATAL_ERROR "No dock to build: no usable Qt found")
endif()
foreach(qt IN LISTS VELORA_DOCK_QT_MAJORS)
  message(STATUS "obs-velora: dock for Qt ${qt} (Qt ${Qt${qt}Widgets_VERSION}): velora-dock-qt${qt}.so")
endforeach()
