/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* The Velora dock: renders DockState snapshots and forwards clicks to the
 * core through the VeloraCoreApi table. No HTTP, no JSON, no business logic.
 *
 * Lifetime: OBS owns and deletes the widget (directly on 30+, through the
 * QDockWidget the plugin parents to the main window on 29). shutdown() at
 * OBS's EXIT event drops the API table and stops the timers; after it the
 * widget never calls the core again. */
#pragma once

#include "dock_state.hpp"
#include "pictures.hpp"
#include "requests.hpp"
#include "velora.h"

#include <QDateTime>
#include <QFont>
#include <QList>
#include <QString>
#include <QHash>
#include <QTimer>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QFrame;
class QGroupBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QScrollArea;
class QToolButton;
class QVBoxLayout;

namespace velora {

class VeloraDock : public QWidget {
public:
	explicit VeloraDock(const VeloraCoreApi *api, QWidget *parent = nullptr);

	/* Builds the contents (also done on the first show). */
	void ensureBuilt();
	/* Re-reads the state from the core (UI thread); nothing before ensureBuilt(). */
	void refresh();
	/* OBS's EXIT: forget the core, stop the timers. Never deletes anything. */
	void shutdown();
	/* Gives keyboard focus to the control the user most likely wants. */
	void focusPrimary();
	/* The localized string for a dotted key ("Velora.Dock.Title"). */
	QString text(const char *key) const;

	/* A floating dock starts at this size (its contents are built lazily). */
	QSize sizeHint() const override;

protected:
	void showEvent(QShowEvent *event) override;
	void hideEvent(QHideEvent *event) override;

private:
	enum class Tone { Normal, Muted, Good, Warning, Error };

	/* construction */
	void buildBanner(QWidget *parent);
	QWidget *buildChecklist(QWidget *parent);
	QWidget *buildLoggedOut(QWidget *parent);
	QWidget *buildLoggingIn(QWidget *parent);
	QWidget *buildReady(QWidget *parent);
	QLabel *makeLabel(const QString &text, QWidget *parent, Tone tone = Tone::Normal);

	/* rendering */
	void render(const DockState &s);
	void renderBanner();
	void renderNotices();
	void renderChecklist();
	void renderLoginCountdown();
	void renderCategoryIcons();
	void renderCategoryPicture();
	void renderLoggedOut(bool first);
	void renderLoggingIn();
	void renderReady(const DockState &prev, bool first);
	void renderProtocols();
	bool renderCategories();
	void loadInfoEditors(bool title, bool category, bool tags);
	void renderStatusLine();
	void renderRetry();
	void updateInfoControls();
	void updateTicker();
	void reportVisibility();
	static void setTone(QWidget *w, Tone tone);
	/* Tells screen readers that `w`'s text changed (and, for `alert`, that
	 * it needs attention): Qt's accessibility events, Qt 5.15 and 6. */
	static void announce(QWidget *w, const QString &text, bool alert);

	/* category pictures */
	/* The picture of the category `slug`: decoded, or the placeholder. */
	QIcon categoryIcon(const QString &slug) const;
	void queuePictures();
	void decodeNextPicture();
	bool keyCheckedRecently() const;
	/* OBS streams through the full Velora service (not a custom server, not
	 * what Settings › Stream left of it). */
	bool usingVelora() const { return m_state.serviceMode == VeloraServiceMode_Velora; }

	/* stream info editing */
	QString editedTitle() const;
	QString editedTags() const;
	bool editedCategorySlug(QString *slug) const;
	bool titleChanged() const;
	bool categoryChanged() const;
	bool tagsChanged() const;
	static QString normalizeTags(const QString &tags);

	/* actions: every request's id goes to the tracker */
	void sent(Action action, uint64_t id);
	void onEnvironmentActivated(int index);
	void onCustomUrlEdited();
	void onCopyLink();
	void onProtocolActivated(int index);
	void onUpdateInfo();
	void onRevealToggled(bool on);
	void hideKey();
	void onRegenerate();
	void onLogout();
	VeloraProtocol selectedProtocol() const;

	/* One part of the construction per event-loop turn (ensureBuilt). */
	void buildNext();
	/* Opens one of the fonts the renders need per event-loop turn. */
	void warmNextFont();

	const VeloraCoreApi *m_api;
	bool m_built = false;
	int m_buildStep = 0;
	bool m_focusWhenBuilt = false;
	QWidget *m_content = nullptr;
	QVBoxLayout *m_contentLayout = nullptr;
	QList<QFont> m_fontsToWarm;
	QString m_fontSample;
	QScrollArea *m_scroll = nullptr;
	DockState m_state;
	bool m_hasState = false;
	int m_reportedVisible = -1;
	/* "Custom URL" picked, no URL typed yet: do not reset the choice. */
	bool m_envChoicePending = false;
	QDateTime m_retryDeadline;
	QTimer m_ticker;
	QTimer m_keyTimer;
	QTimer m_copiedTimer;
	/* decodes one category picture per event-loop turn */
	QTimer m_pictureTimer;
	/* re-draws the checklist when the key check grows old */
	QTimer m_checklistTimer;

	/* banner (all phases) */
	QFrame *m_banner = nullptr;
	QLabel *m_bannerIcon = nullptr;
	QLabel *m_bannerTitle = nullptr;
	QLabel *m_bannerText = nullptr;
	QLabel *m_bannerRetry = nullptr;
	QPushButton *m_bannerButton = nullptr;
	QLabel *m_working = nullptr;
	QLabel *m_notice = nullptr;
	/* The answer to the latest Use Velora / key / restore click. */
	QLabel *m_answer = nullptr;
	Action m_answerAction = Action::Setup;

	/* before going live (not live, logged out or ready) */
	QWidget *m_checklist = nullptr;
	QLabel *m_checkHeader = nullptr;
	QToolButton *m_checkLogin = nullptr;
	QToolButton *m_checkService = nullptr;
	QToolButton *m_checkKey = nullptr;
	QToolButton *m_checkTitle = nullptr;
	QToolButton *m_checkAll = nullptr;
	QDateTime m_keyCheckedAt;

	/* logged out */
	QWidget *m_loggedOut = nullptr;
	QPushButton *m_loginButton = nullptr;
	QToolButton *m_advancedToggle = nullptr;
	QWidget *m_advanced = nullptr;
	QComboBox *m_environment = nullptr;
	QLabel *m_customUrlLabel = nullptr;
	QLineEdit *m_customUrl = nullptr;
	QLabel *m_apiBase = nullptr;

	/* logging in */
	QWidget *m_loggingIn = nullptr;
	QPushButton *m_copyLink = nullptr;
	QLabel *m_copied = nullptr;
	QPushButton *m_cancelLogin = nullptr;
	QProgressBar *m_loginBusy = nullptr;
	QLabel *m_loginTimeLeft = nullptr;
	QDateTime m_loginDeadline;

	/* ready */
	QWidget *m_ready = nullptr;
	QLabel *m_account = nullptr;
	QLabel *m_status = nullptr;
	QFrame *m_inactive = nullptr;
	QLabel *m_inactiveText = nullptr;
	QPushButton *m_useVelora = nullptr;
	QPushButton *m_restoreInactive = nullptr;
	QLabel *m_pending = nullptr;
	QLineEdit *m_title = nullptr;
	QLabel *m_titleWarning = nullptr;
	QLabel *m_titleCounter = nullptr;
	QComboBox *m_category = nullptr;
	QLabel *m_categoryPicture = nullptr;
	QPushButton *m_refreshCategories = nullptr;
	QLabel *m_categoryHint = nullptr;
	QLabel *m_categoriesResult = nullptr;
	QLineEdit *m_tags = nullptr;
	QPushButton *m_update = nullptr;
	QLabel *m_infoResult = nullptr;
	QComboBox *m_protocol = nullptr;
	QLineEdit *m_key = nullptr;
	QPushButton *m_reveal = nullptr;
	QPushButton *m_regenerate = nullptr;
	QPushButton *m_restoreActive = nullptr;
	QPushButton *m_logout = nullptr;

	/* what the editors were loaded from / compare against */
	QString m_baseTitle;
	QString m_baseCategory;
	QString m_baseTags;
	/* Which answer belongs to which click (request ids). */
	RequestTracker m_requests;
	/* What screen readers were last told (announced only on change). */
	QString m_announcedBanner;
	QString m_announcedNotice;
	QString m_announcedAnswer;
	int m_announcedLive = -1;
	/* Decoded category pictures. */
	Pictures m_pictures;
	QIcon m_placeholder;
	/* slug -> index in m_state.categories */
	QHash<QString, int> m_categoryIndex;
	/* categories were asked for in this login session */
	bool m_categoriesRequested = false;
	/* what the category combo holds (besides a not-yet-loaded baseline) */
	QVector<Category> m_shownCategories;
};

} // namespace velora
