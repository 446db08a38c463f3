/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* The dock widget: construction, texts and tones, screen-reader
 * announcements, visibility and lifetime. */
#include "velora_dock.hpp"

#include "fonts.hpp"
#include "ui_time.hpp"
#include "ui_util.hpp"

#include <QAccessible>
#include <QFrame>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace velora {

VeloraDock::VeloraDock(const VeloraCoreApi *api, QWidget *parent) : QWidget(parent), m_api(api)
{
	setObjectName(QStringLiteral("VeloraDockContents"));
	setMinimumWidth(kMinimumWidth);
	setAccessibleName(text("Velora.Dock.Title"));

	auto *outer = vbox(this, 0);
	m_scroll = new QScrollArea(this);
	m_scroll->setObjectName(QStringLiteral("VeloraDockScroll"));
	m_scroll->setFrameShape(QFrame::NoFrame);
	m_scroll->setWidgetResizable(true);
	m_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
	outer->addWidget(m_scroll);

	m_ticker.setInterval(1000);
	connect(&m_ticker, &QTimer::timeout, this, [this] {
		const UiTime held(m_api, "ticker");
		renderStatusLine();
		renderRetry();
		renderLoginCountdown();
		updateTicker();
	});
	m_keyTimer.setSingleShot(true);
	m_keyTimer.setInterval(kRevealMs);
	connect(&m_keyTimer, &QTimer::timeout, this, [this] { hideKey(); });
	m_copiedTimer.setSingleShot(true);
	m_copiedTimer.setInterval(kCopiedMs);
	connect(&m_copiedTimer, &QTimer::timeout, this, [this] { m_copied->hide(); });
	m_pictureTimer.setSingleShot(true);
	m_pictureTimer.setInterval(0);
	connect(&m_pictureTimer, &QTimer::timeout, this, [this] { decodeNextPicture(); });
	m_checklistTimer.setSingleShot(true);
	connect(&m_checklistTimer, &QTimer::timeout, this, [this] { renderChecklist(); });
}

void VeloraDock::ensureBuilt()
{
	/* The contents are built the first time the dock is shown (a dock the
	 * user keeps closed costs OBS's start-up nothing), one part per
	 * event-loop turn: built at once, they held OBS's UI thread for a
	 * whole frame and more (25 ms with the fonts). */
	if (m_built || m_buildStep > 0 || !m_api)
		return;
	buildNext();
}

void VeloraDock::buildNext()
{
	if (!m_api || m_built)
		return;
	const int step = m_buildStep++;
	{
		/* Not counted in uiThreadMaxMs (README, budgets): a one-time
		 * start-up cost whose first reads of files (theme, icons, fonts)
		 * wait for the disk; 0.9-5.1 ms a turn here, 18.2 ms once on a
		 * loaded CI machine (OBS 32). */
		switch (step) {
		case 0: {
			m_content = new QWidget(m_scroll);
			m_content->setObjectName(QStringLiteral("VeloraDockPage"));
			m_contentLayout = new QVBoxLayout(m_content);
			m_contentLayout->setContentsMargins(6, 6, 6, 6);
			m_contentLayout->setSpacing(8);

			m_placeholder = QIcon(Pictures::placeholder(kListIcon * 2));

			buildBanner(m_content);
			m_contentLayout->addWidget(m_banner);
			/* The answer to the latest Use Velora / key / restore click
			 * (found by its request id); the answer to "Update stream info"
			 * shows under that button instead. */
			m_answer = makeLabel(QString(), m_content, Tone::Good);
			m_answer->setObjectName(QStringLiteral("VeloraAnswer"));
			m_answer->setTextInteractionFlags(Qt::TextSelectableByMouse);
			m_answer->setAccessibleName(plain(text("Velora.Dock.Acc.Answer")));
			m_answer->hide();
			m_contentLayout->addWidget(m_answer);
			/* The core's own notices (a key changed elsewhere, a change
			 * queued while live), in every phase. */
			m_notice = makeLabel(QString(), m_content, Tone::Good);
			m_notice->setObjectName(QStringLiteral("VeloraNotice"));
			m_notice->setTextInteractionFlags(Qt::TextSelectableByMouse);
			m_notice->setAccessibleName(plain(text("Velora.Dock.Acc.Notice")));
			m_notice->hide();
			m_contentLayout->addWidget(m_notice);
			m_checklist = buildChecklist(m_content);
			m_checklist->hide();
			m_contentLayout->addWidget(m_checklist);
			break;
		}
		case 1:
			m_loggedOut = buildLoggedOut(m_content);
			m_loggedOut->hide();
			m_contentLayout->addWidget(m_loggedOut);
			m_loggingIn = buildLoggingIn(m_content);
			m_loggingIn->hide();
			m_contentLayout->addWidget(m_loggingIn);
			break;
		case 2:
			m_ready = buildReady(m_content);
			m_ready->hide();
			m_contentLayout->addWidget(m_ready);
			break;
		default: {
			/* At the bottom and keeping its line when hidden: busy toggles
			 * often (every poll) and must not make the content jump. */
			m_working = makeLabel(text("Velora.Dock.Working"), m_content, Tone::Muted);
			m_working->setAccessibleName(plain(text("Velora.Dock.Working")));
			QFont italic = m_working->font();
			italic.setItalic(true);
			m_working->setFont(italic);
			retainSizeWhenHidden(m_working);
			m_working->hide();
			m_contentLayout->addWidget(m_working);
			m_contentLayout->addStretch(1);
			m_banner->hide();
			m_scroll->setWidget(m_content);
			/* The fonts the renders will draw with, and the symbols they
			 * draw (checklist marks, ellipses, the LIVE dot), opened one
			 * per turn from now on, not inside a render. */
			m_fontsToWarm = fontsToWarm(m_content, QStringLiteral("\u2713\u25cb\u2026\u203a\u25cf\u2022\u2014"),
						    &m_fontSample);
			m_built = true;
			break;
		}
		}
	}
	if (!m_built) {
		QTimer::singleShot(0, this, [this] { buildNext(); });
		return;
	}
	refresh();
	if (m_focusWhenBuilt) {
		m_focusWhenBuilt = false;
		focusPrimary();
	}
	QTimer::singleShot(0, this, [this] { warmNextFont(); });
}

void VeloraDock::warmNextFont()
{
	if (!m_api || m_fontsToWarm.isEmpty())
		return;
	/* One-time, like the construction: not counted either. */
	warmFont(m_fontsToWarm.takeFirst(), m_fontSample);
	QTimer::singleShot(0, this, [this] { warmNextFont(); });
}

QSize VeloraDock::sizeHint() const
{
	return QSize(kPreferredWidth, kPreferredHeight);
}

QString VeloraDock::text(const char *key) const
{
	if (!m_api || !m_api->text)
		return QString::fromUtf8(key);
	const char *t = m_api->text(key);
	return QString::fromUtf8(t ? t : key);
}

QLabel *VeloraDock::makeLabel(const QString &text, QWidget *parent, Tone tone)
{
	auto *l = new QLabel(text, parent);
	l->setWordWrap(true);
	l->setTextFormat(Qt::PlainText);
	setTone(l, tone);
	return l;
}

void VeloraDock::setTone(QWidget *w, Tone tone)
{
	/* OBS 29/30 themes style [themeID="…"], OBS 31+ themes style classes. */
	const char *themeId = nullptr;
	const char *cls = nullptr;
	switch (tone) {
	case Tone::Normal:
		break;
	case Tone::Muted:
		cls = "text-muted";
		break;
	case Tone::Good:
		themeId = "good";
		cls = "text-success";
		break;
	case Tone::Warning:
		themeId = "warning";
		cls = "text-warning";
		break;
	case Tone::Error:
		themeId = "error";
		cls = "text-danger";
		break;
	}
	const QVariant newId = themeId ? QVariant(QString::fromLatin1(themeId)) : QVariant();
	const QVariant newCls = cls ? QVariant(QString::fromLatin1(cls)) : QVariant();
	if (w->property("themeID") == newId && w->property("class") == newCls)
		return;
	w->setProperty("themeID", newId);
	w->setProperty("class", newCls);
	repolish(w);
}

void VeloraDock::announce(QWidget *w, const QString &text, bool alert)
{
	/* Screen readers read the changed name or description; an alert asks
	 * them to speak it now. (Qt 6.8's announcement event is newer than the
	 * Qt this dock is built against.) */
	if (!w)
		return;
	w->setAccessibleDescription(text);
	QAccessibleEvent changed(w, QAccessible::DescriptionChanged);
	QAccessible::updateAccessibility(&changed);
	if (alert && !text.isEmpty()) {
		QAccessibleEvent ev(w, QAccessible::Alert);
		QAccessible::updateAccessibility(&ev);
	}
}

void VeloraDock::showEvent(QShowEvent *event)
{
	QWidget::showEvent(event);
	if (!m_built) {
		/* Build right after this event, not inside whatever showed us
		 * (OBS restoring its layout, or our own load). */
		QTimer::singleShot(0, this, [this] { ensureBuilt(); });
	}
	reportVisibility();
}

void VeloraDock::hideEvent(QHideEvent *event)
{
	QWidget::hideEvent(event);
	reportVisibility();
}

void VeloraDock::reportVisibility()
{
	if (!m_api)
		return;
	/* isVisible() stays true when only the main window is minimized; it is
	 * false when the dock is closed or behind another dock's tab. */
	const int visible = isVisible() ? 1 : 0;
	if (visible != m_reportedVisible) {
		m_reportedVisible = visible;
		m_api->dock_visible(visible != 0);
		if (visible)
			refresh();
	}
	if (!visible)
		hideKey();
	updateTicker();
}

void VeloraDock::focusPrimary()
{
	ensureBuilt();
	if (!m_built) {
		m_focusWhenBuilt = true; /* still being built: when it is */
		return;
	}
	QWidget *target = nullptr;
	switch (m_state.phase) {
	case VeloraPhase_LoggedOut:
		target = m_loginButton;
		break;
	case VeloraPhase_LoggingIn:
		target = m_copyLink->isEnabled() ? static_cast<QWidget *>(m_copyLink) : m_cancelLogin;
		break;
	case VeloraPhase_Ready:
		target = m_inactive->isVisibleTo(this) ? static_cast<QWidget *>(m_useVelora) : m_title;
		break;
	}
	if (target && target->isEnabled())
		target->setFocus(Qt::OtherFocusReason);
}

void VeloraDock::shutdown()
{
	/* OBS's EXIT: stop talking to the core, change nothing on screen.
	 * (The SIGSEGVs once seen at exit of Debian's OBS 29.0.2 in QLabel and
	 * QWidget painting are not caused by repaints of ours: that OBS runs its
	 * whole shutdown inside its SIGINT handler, on top of whatever paint the
	 * UI thread was in, with or without this plugin; fixed in OBS 29.1. See
	 * docs/obs29-sigint-crash.md.) */
	m_api = nullptr;
	m_ticker.stop();
	m_keyTimer.stop();
	m_copiedTimer.stop();
	m_pictureTimer.stop();
	m_checklistTimer.stop();
	/* No paint of ours while OBS destroys its window. */
	setUpdatesEnabled(false);
}

} // namespace velora
