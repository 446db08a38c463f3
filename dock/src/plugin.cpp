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
#include <QEvent>
#include <QGuiApplication>
#include <QMainWindow>
#include <QPointer>
#include <QScreen>
#include <QThread>
#include <QTimer>

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
const VeloraCoreApi *g_api = nullptr;

/* Any thread. */
std::atomic<bool> g_loaded{false};
std::atomic<bool> g_refreshQueued{false};

bool g_menuAdded = false;

/* Notices OBS's Settings dialog and auto-configuration wizard closing and
 * tells the core, which reads the streaming service again (they may just
 * have replaced it). No decision here. Both are modal top-level dialogs:
 * OBSBasicSettings (objectName and class, 29-32) and AutoConfig (a QWizard
 * without objectName). A hide that is not spontaneous is the dialog going
 * away (minimizing is spontaneous). The wizard hides *before* it saves the
 * new service (QWizard::done, then SaveStreamSettings), so the core is told
 * on the next event-loop turn, after both. */
class SettingsWatcher : public QObject {
public:
	bool eventFilter(QObject *watched, QEvent *event) override
	{
		if (event->type() != QEvent::Hide || event->spontaneous() || !watched->isWidgetType())
			return false;
		auto *w = static_cast<QWidget *>(watched);
		if (!w->isWindow() || !(w->inherits("OBSBasicSettings") || w->inherits("AutoConfig")))
			return false;
		QTimer::singleShot(0, this, [] {
			if (g_loaded.load() && g_api && g_api->settings_closed)
				g_api->settings_closed();
		});
		return false;
	}
};

/* UI thread only; a child of the application object, removed at EXIT. */
QPointer<SettingsWatcher> g_settingsWatcher;

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
	if (frame->isFloating()) {
		/* A dock that was floating and hidden may come back tiny or off
		 * screen (OBS 30+ creates it floating at its minimum size). */
		const QSize want = frame->sizeHint();
		if (frame->width() < want.width() / 2 || frame->height() < want.height() / 2)
			frame->resize(want);
		if (g_main && !QGuiApplication::screenAt(frame->geometry().center()))
			frame->move(g_main->geometry().center() - QPoint(frame->width() / 2, frame->height() / 2));
	}
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
 * this dock exists; Qt then keeps a placeholder for every saved dock it did
 * not find, and QMainWindow::restoreDockWidget() puts a late dock there. */
bool restoreFromPlaceholder(QMainWindow *main, QDockWidget *frame)
{
	return main->restoreDockWidget(frame);
}

/* Does a QMainWindow::saveState() blob mention a dock named `name`? (The
 * stream stores object names as big-endian UTF-16.) */
bool stateMentions(const QByteArray &state, const QString &name)
{
	QByteArray utf16;
	for (QChar c : name) {
		utf16.append(static_cast<char>(c.unicode() >> 8));
		utf16.append(static_cast<char>(c.unicode() & 0xff));
	}
	return !state.isEmpty() && state.contains(utf16);
}

/* OBS 30+: add_dock_by_id calls QMainWindow::addDockWidget, which drops the
 * placeholder before we could use it. Re-apply the layout OBS restored at
 * start-up instead, as OBS does itself for docks it adds late (Twitch,
 * YouTube): unchanged for every other dock, and ours goes back where the user
 * left it. Only when the saved layout knows our dock. */
bool restoreFromSavedState(const velora::Frontend &fe, QMainWindow *main)
{
	const QByteArray state = fe.savedDockState();
	if (!stateMentions(state, QString::fromLatin1(kDockId)))
		return false;
	/* Qt 6 sends close events to the floating docks it re-docks or hides
	 * (OBS's own add_dock_by_id leaves ours floating and hidden): OBS's docks
	 * answer with "You just closed a dockable window". Nobody closed
	 * anything: keep those events from the docks while restoring. */
	struct IgnoreDockCloses : QObject {
		bool eventFilter(QObject *watched, QEvent *event) override
		{
			return event->type() == QEvent::Close && qobject_cast<QDockWidget *>(watched);
		}
	} ignoreCloses;
	qApp->installEventFilter(&ignoreCloses);
	const bool restored = main->restoreState(state);
	qApp->removeEventFilter(&ignoreCloses);
	return restored;
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
		if (frame)
			restoreFromSavedState(fe, main);
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
		if (!restoreFromPlaceholder(main, frame)) {
			main->addDockWidget(Qt::RightDockWidgetArea, frame);
			frame->hide();
		}
		fe.add_dock(frame);
		g_frame = frame;
		return true;
	}
	return false;
}

/* "docked right, shown", for the log. */
QString describePlace(QMainWindow *main, QDockWidget *frame)
{
	if (!frame)
		return QStringLiteral("no dock frame");
	QString where = QStringLiteral("floating");
	if (!frame->isFloating()) {
		switch (main->dockWidgetArea(frame)) {
		case Qt::LeftDockWidgetArea:
			where = QStringLiteral("docked left");
			break;
		case Qt::RightDockWidgetArea:
			where = QStringLiteral("docked right");
			break;
		case Qt::TopDockWidgetArea:
			where = QStringLiteral("docked top");
			break;
		case Qt::BottomDockWidgetArea:
			where = QStringLiteral("docked bottom");
			break;
		default:
			where = QStringLiteral("not docked");
			break;
		}
	}
	return where + (frame->isHidden() ? QStringLiteral(", hidden") : QStringLiteral(", shown"));
}

/* Second step of the load, one event-loop turn later: OBS's FINISHED_LOADING
 * handler (the core's velora_dock_load call) returns at once, and creating
 * and registering the dock (tens of ms with OBS 32's theme) does not hold the
 * UI thread inside it. */
void createDock(const velora::Frontend &fe, uint32_t obsVersion)
{
	const VeloraCoreApi *api = g_api;
	QMainWindow *main = g_main;
	if (!g_loaded.load() || !api || !main || g_dock)
		return;

	QElapsedTimer clock;
	clock.start();
	auto *dock = new velora::VeloraDock(api);
	const QString title = dock->text("Velora.Dock.Title");
	if (!registerDock(fe, main, dock, obsVersion, title)) {
		log(LogLevel::Warning, QStringLiteral("OBS refused the dock (dock id '%1' already in use?)")
					       .arg(QString::fromLatin1(kDockId)));
		if (!dock->parentWidget())
			delete dock;
		return;
	}
	g_dock = dock;

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
	log(LogLevel::Info, QStringLiteral("dock ready (Qt %1, %2, %3; %4 ms)")
				    .arg(QString::fromLatin1(qVersion()),
					 obsVersion >= velora::obsVersion(30) && fe.add_dock_by_id
						 ? QStringLiteral("add_dock_by_id")
						 : QStringLiteral("add_dock"),
					 describePlace(main, currentFrame()))
				    .arg(clock.elapsed()));
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
	if (g_loaded.load())
		return true;

	const velora::Frontend fe = velora::Frontend::resolve();
	auto *main = fe.get_main_window ? static_cast<QMainWindow *>(fe.get_main_window()) : nullptr;
	if (!main) {
		log(LogLevel::Warning, QStringLiteral("OBS has no main window: not loading the dock"));
		return false;
	}
	const bool byId = obsVersion >= velora::obsVersion(30) && fe.add_dock_by_id;
	if (!byId && !fe.add_dock) {
		log(LogLevel::Warning, QStringLiteral("this OBS offers neither obs_frontend_add_dock_by_id nor "
						      "obs_frontend_add_dock: not loading the dock"));
		return false;
	}

	g_api = api;
	g_main = main;
	g_loaded = true;
	if (!g_menuAdded && fe.add_tools_menu_item) {
		const char *menu = api->text ? api->text("Velora.Dock.ToolsMenu") : nullptr;
		fe.add_tools_menu_item(menu ? menu : "Velora", toolsMenuClicked, nullptr);
		g_menuAdded = true;
	}
	if (!g_settingsWatcher) {
		g_settingsWatcher = new SettingsWatcher();
		g_settingsWatcher->setParent(app);
		app->installEventFilter(g_settingsWatcher);
	}
	/* Queued on the main window: never runs once OBS has destroyed it. */
	QTimer::singleShot(0, main, [fe, obsVersion] { createDock(fe, obsVersion); });
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
		if (g_settingsWatcher) {
			if (QCoreApplication *app = QCoreApplication::instance())
				app->removeEventFilter(g_settingsWatcher);
			delete g_settingsWatcher;
		}
		if (g_dock)
			g_dock->shutdown();
		g_dock = nullptr;
		g_frame = nullptr;
		g_main = nullptr;
		g_api = nullptr;
	} catch (...) {
	}
}
