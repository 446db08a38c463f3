/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* The three entry points the core looks up after dlopen (include/velora.h):
 * velora_dock_load, velora_dock_notify, velora_dock_unload. Everything else
 * in this library is hidden (-fvisibility=hidden and a version script). */

#include "frontend.hpp"
#include "velora.h"
#include "velora_dock.hpp"

#include <QApplication>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QMainWindow>
#include <QPointer>
#include <QThread>

#include <atomic>
#include <exception>
#include <type_traits>

#define VELORA_DOCK_EXPORT __attribute__((visibility("default")))

extern "C" {
VELORA_DOCK_EXPORT bool velora_dock_load(const VeloraCoreApi *api, uint32_t obs_version);
VELORA_DOCK_EXPORT void velora_dock_notify(void);
VELORA_DOCK_EXPORT void velora_dock_unload(void);
}

static_assert(std::is_same<decltype(&velora_dock_load), velora_dock_load_fn>::value,
	      "velora_dock_load does not match include/velora.h");
static_assert(std::is_same<decltype(&velora_dock_notify), velora_dock_notify_fn>::value,
	      "velora_dock_notify does not match include/velora.h");
static_assert(std::is_same<decltype(&velora_dock_unload), velora_dock_unload_fn>::value,
	      "velora_dock_unload does not match include/velora.h");

namespace {

using velora::log;
using velora::LogLevel;

/* The id OBS 30+ gives its wrapping dock (and the name it saves it under). */
constexpr const char *kDockId = "velora";
/* The object name of the QDockWidget we create ourselves on OBS 29. */
constexpr const char *kLegacyDockName = "VeloraDock";

/* UI thread only. QPointer: OBS deletes the widgets, we only observe. */
QPointer<velora::VeloraDock> g_dock;
QPointer<QDockWidget> g_frame;
QPointer<QMainWindow> g_main;

/* Any thread. */
std::atomic<bool> g_loaded{false};
std::atomic<bool> g_refreshQueued{false};

bool g_menuAdded = false;

QDockWidget *frameOf(QWidget *w)
{
	for (QWidget *p = w ? w->parentWidget() : nullptr; p; p = p->parentWidget()) {
		if (auto *dock = qobject_cast<QDockWidget *>(p))
			return dock;
	}
	return nullptr;
}

QDockWidget *currentFrame()
{
	if (g_frame)
		return g_frame;
	if (QDockWidget *f = frameOf(g_dock))
		return g_frame = f;
	if (g_main) {
		if (auto *f = g_main->findChild<QDockWidget *>(QString::fromLatin1(kDockId)))
			return g_frame = f;
	}
	return nullptr;
}

void showDock()
{
	QDockWidget *frame = currentFrame();
	if (!frame)
		return;
	frame->show();
	frame->raise();
	if (frame->isFloating())
		frame->activateWindow();
	if (g_dock)
		g_dock->focusPrimary();
}

void toolsMenuClicked(void *)
{
	if (g_loaded.load())
		showDock();
}

/* OBS restores the saved dock layout before FINISHED_LOADING, i.e. before
 * this dock exists; Qt keeps a placeholder for every saved dock it did not
 * find. Put the dock where the user left it, or return false. */
bool restoreSavedPlace(QMainWindow *main, QDockWidget *frame)
{
	main->removeDockWidget(frame);
	return main->restoreDockWidget(frame);
}

bool registerDock(const velora::Frontend &fe, QMainWindow *main, velora::VeloraDock *dock, uint32_t obsVersion,
		  const QString &title)
{
	const QByteArray titleUtf8 = title.toUtf8();
	if (obsVersion >= velora::obsVersion(30) && fe.add_dock_by_id) {
		/* OBS wraps the widget in its own QDockWidget and owns both. */
		if (!fe.add_dock_by_id(kDockId, titleUtf8.constData(), dock))
			return false;
		QDockWidget *frame = frameOf(dock);
		if (frame && !restoreSavedPlace(main, frame)) {
			/* What add_dock_by_id had done: right area, floating, hidden. */
			main->addDockWidget(Qt::RightDockWidgetArea, frame);
			frame->setFloating(true);
			frame->hide();
		}
		g_frame = frame;
		return true;
	}
	if (fe.add_dock) {
		/* OBS 29: we create the QDockWidget; its parent, the main window,
		 * deletes it. The object name keys the saved window state. */
		auto *frame = new QDockWidget(main);
		frame->setObjectName(QString::fromLatin1(kLegacyDockName));
		frame->setWindowTitle(title);
		frame->setAllowedAreas(Qt::AllDockWidgetAreas);
		frame->setWidget(dock);
		if (!main->restoreDockWidget(frame)) {
			main->addDockWidget(Qt::RightDockWidgetArea, frame);
			frame->hide();
		}
		fe.add_dock(frame);
		g_frame = frame;
		return true;
	}
	return false;
}

bool load(const VeloraCoreApi *api, uint32_t obsVersion)
{
	if (!api || api->abi_version != VELORA_DOCK_ABI_VERSION) {
		log(LogLevel::Warning, QStringLiteral("core ABI %1, dock ABI %2: not loading the dock")
					       .arg(api ? api->abi_version : 0)
					       .arg(VELORA_DOCK_ABI_VERSION));
		return false;
	}
	auto *app = qobject_cast<QApplication *>(QCoreApplication::instance());
	if (!app || QThread::currentThread() != app->thread()) {
		log(LogLevel::Warning, QStringLiteral("not called on the Qt UI thread: not loading the dock"));
		return false;
	}
	if (g_dock) {
		g_loaded = true;
		return true;
	}

	QElapsedTimer clock;
	clock.start();
	const velora::Frontend fe = velora::Frontend::resolve();
	auto *main = fe.get_main_window ? static_cast<QMainWindow *>(fe.get_main_window()) : nullptr;
	if (!main) {
		log(LogLevel::Warning, QStringLiteral("OBS has no main window: not loading the dock"));
		return false;
	}

	auto *dock = new velora::VeloraDock(api);
	const qint64 tBuilt = clock.elapsed();
	const QString title = dock->text("Velora.Dock.Title");
	if (!registerDock(fe, main, dock, obsVersion, title)) {
		log(LogLevel::Warning, QStringLiteral("OBS refused the dock (no add_dock / add_dock_by_id, or id in use)"));
		if (!dock->parentWidget())
			delete dock;
		return false;
	}
	const qint64 tRegistered = clock.elapsed();
	g_dock = dock;
	g_main = main;
	g_loaded = true;

	if (!g_menuAdded && fe.add_tools_menu_item) {
		const QByteArray menu = dock->text("Velora.Dock.ToolsMenu").toUtf8();
		fe.add_tools_menu_item(menu.constData(), toolsMenuClicked, nullptr);
		g_menuAdded = true;
	}

	if (api->first_run && api->first_run()) {
		if (QDockWidget *frame = currentFrame()) {
			/* The first time ever: docked on the right, in plain sight. */
			frame->setFloating(false);
			frame->show();
			frame->raise();
		}
	}
	if (!dock->isVisible() && api->dock_visible)
		api->dock_visible(false);
	log(LogLevel::Info, QStringLiteral("dock ready (Qt %1, %2) in %3 ms (built %4, registered %5)")
				    .arg(QString::fromLatin1(qVersion()),
					 obsVersion >= velora::obsVersion(30) ? QStringLiteral("add_dock_by_id")
									      : QStringLiteral("add_dock"))
				    .arg(clock.elapsed())
				    .arg(tBuilt)
				    .arg(tRegistered));
	return true;
}

} // namespace

extern "C" bool velora_dock_load(const VeloraCoreApi *api, uint32_t obs_version)
{
	try {
		return load(api, obs_version);
	} catch (const std::exception &e) {
		log(LogLevel::Error, QStringLiteral("load failed: %1").arg(QString::fromUtf8(e.what())));
	} catch (...) {
		log(LogLevel::Error, QStringLiteral("load failed"));
	}
	return false;
}

extern "C" void velora_dock_notify(void)
{
	/* Any thread. Coalesces bursts into one queued refresh on the UI thread;
	 * the widget is looked up there, through its QPointer, so a destroyed
	 * dock is never touched. */
	try {
		if (!g_loaded.load() || g_refreshQueued.exchange(true))
			return;
		QCoreApplication *app = QCoreApplication::instance();
		if (!app) {
			g_refreshQueued = false;
			return;
		}
		QMetaObject::invokeMethod(
			app,
			[] {
				g_refreshQueued = false;
				if (g_loaded.load() && g_dock)
					g_dock->refresh();
			},
			Qt::QueuedConnection);
	} catch (...) {
		g_refreshQueued = false;
	}
}

extern "C" void velora_dock_unload(void)
{
	/* OBS's EXIT, UI thread: OBS deletes the widgets right after; never
	 * delete them here (deleting again crashed OBS 29). */
	try {
		g_loaded = false;
		if (g_dock)
			g_dock->shutdown();
		g_dock = nullptr;
		g_frame = nullptr;
		g_main = nullptr;
	} catch (...) {
	}
}
