/* The OBS headers bindgen reads. Only libobs: the frontend API is resolved
 * at run time with dlsym (see src/ffi/frontend.rs), so no link-time
 * dependency on a symbol that one OBS version lacks. */
#include <obs-module.h>
#include <obs-service.h>
#include <obs-frontend-api.h>
#include <util/platform.h>
#include <util/text-lookup.h>
#include <util/bmem.h>
#include <callback/calldata.h>
#include <callback/proc.h>
