/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* OBS frontend functions, resolved at run time.
 *
 * The dock links no OBS library: a symbol one OBS version lacks
 * (obs_frontend_add_dock is gone in 32, add_dock_by_id is new in 30) would
 * make the whole library fail to load under OBS 32's RTLD_NOW. Every
 * function is looked up in the process with dlsym(RTLD_DEFAULT) and may be
 * NULL. */
#pragma once

#include <QByteArray>
#include <QString>

#include <cstdint>

namespace velora {

struct Frontend {
	/* All OBS versions. */
	void *(*get_main_window)(void) = nullptr;
	void (*add_tools_menu_item)(const char *name, void (*callback)(void *), void *data) = nullptr;
	/* OBS 28–31: registers a QDockWidget the plugin created (and owns). */
	void *(*add_dock)(void *dock) = nullptr;
	/* OBS 30+: wraps a QWidget in a dock that OBS owns. */
	bool (*add_dock_by_id)(const char *id, const char *title, void *widget) = nullptr;
	/* Where OBS keeps the main window's saved dock layout ("BasicWindow",
	 * "DockState"): the user config from 31, the global config before. */
	void *(*get_user_config)(void) = nullptr;
	void *(*get_global_config)(void) = nullptr;
	const char *(*config_get_string)(void *config, const char *section, const char *name) = nullptr;

	static Frontend resolve();

	/* The dock layout OBS restored at start-up (QMainWindow::saveState()), or empty. */
	QByteArray savedDockState() const;
};

/* OBS's log levels (util/base.h). */
enum class LogLevel : int { Error = 100, Warning = 200, Info = 300 };

/* Writes "[velora] dock: MESSAGE" to OBS's log (stderr when libobs is absent). */
void log(LogLevel level, const QString &message);

constexpr uint32_t obsVersion(uint32_t major, uint32_t minor = 0, uint32_t patch = 0)
{
	return (major << 24) | (minor << 16) | patch;
}

} // namespace velora
