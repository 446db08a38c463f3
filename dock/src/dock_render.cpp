/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* State → widgets: each snapshot rendered into the pages that exist. */
#include "velora_dock.hpp"

#include "ui_time.hpp"
#include "ui_util.hpp"

#include <QComboBox>
#include <QFrame>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSignalBlocker>
#include <QToolButton>

#include <algorithm>

namespace velora {

void VeloraDock::refresh()
{
	if (!m_built || !m_api || !m_api->state_get || !m_api->state_free)
		return;
	const UiTime held(m_api, "snapshot rendering");
	VeloraDockState *raw = m_api->state_get();
	if (!raw)
		return;
	const DockState s = DockState::fromSnapshot(*raw);
	m_api->state_free(raw);
	render(s);
}

void VeloraDock::render(const DockState &s)
{
	const DockState prev = m_state;
	const bool first = !m_hasState;
	m_state = s;
	m_hasState = true;

	m_loggedOut->setVisible(s.phase == VeloraPhase_LoggedOut);
	m_loggingIn->setVisible(s.phase == VeloraPhase_LoggingIn);
	m_ready->setVisible(s.phase == VeloraPhase_Ready);
	m_working->setVisible(s.busy);

	/* Answers to clicks come by request id, never guessed from a notice. */
	const QVector<Action> arrived = m_requests.update(s);
	for (Action a : arrived) {
		if (a == Action::Setup || a == Action::Regenerate || a == Action::CheckKey || a == Action::Restore)
			m_answerAction = a;
	}
	if (s.phase != VeloraPhase_Ready) {
		for (Action a : {Action::Info, Action::Setup, Action::Regenerate, Action::CheckKey, Action::Restore,
				 Action::Categories})
			m_requests.clear(a);
	}

	renderBanner();
	renderNotices();
	if (s.phase == VeloraPhase_LoggedOut)
		renderLoggedOut(first || prev.phase != VeloraPhase_LoggedOut);
	if (s.phase == VeloraPhase_LoggingIn)
		renderLoggingIn();
	else
		m_copied->hide();
	if (s.phase == VeloraPhase_Ready)
		renderReady(prev, first);
	else if (m_reveal->isChecked())
		hideKey();
	renderChecklist();

	/* Going live or offline is worth saying. */
	const int live = s.phase == VeloraPhase_Ready && s.isLive ? 1 : 0;
	if (m_announcedLive >= 0 && live != m_announcedLive)
		announce(m_status, text(live ? "Velora.Dock.Acc.NowLive" : "Velora.Dock.Acc.NowOffline"), true);
	m_announcedLive = live;
	updateTicker();
}

void VeloraDock::renderBanner()
{
	const DockState &s = m_state;
	/* A rejected stream-info update is shown under its button instead. */
	const bool inlineError = s.errorKind == VeloraErrorKind_Invalid && s.phase == VeloraPhase_Ready;
	if (s.errorKind == VeloraErrorKind_None || inlineError) {
		m_banner->hide();
		m_retryDeadline = QDateTime();
		m_announcedBanner.clear();
		return;
	}

	const char *title = "Velora.Dock.Error.Other.Title";
	const char *fallback = "Velora.Dock.Error.Other.Text";
	const char *action = nullptr;
	switch (s.errorKind) {
	case VeloraErrorKind_SessionExpired:
		title = "Velora.Dock.Error.SessionExpired.Title";
		fallback = "Velora.Dock.Error.SessionExpired.Text";
		action = "Velora.Dock.Error.LoginAgain";
		break;
	case VeloraErrorKind_MissingPermission:
		title = "Velora.Dock.Error.MissingPermission.Title";
		fallback = "Velora.Dock.Error.MissingPermission.Text";
		action = "Velora.Dock.Error.LoginAgain";
		break;
	case VeloraErrorKind_StreamingDisabled:
		title = "Velora.Dock.Error.StreamingDisabled.Title";
		fallback = "Velora.Dock.Error.StreamingDisabled.Text";
		break;
	case VeloraErrorKind_RateLimited:
		title = "Velora.Dock.Error.RateLimited.Title";
		fallback = "Velora.Dock.Error.RateLimited.Text";
		break;
	case VeloraErrorKind_Network:
		title = "Velora.Dock.Error.Network.Title";
		fallback = "Velora.Dock.Error.Network.Text";
		break;
	case VeloraErrorKind_Paced:
		title = "Velora.Dock.Error.Paced.Title";
		fallback = "Velora.Dock.Error.Paced.Text";
		break;
	case VeloraErrorKind_Invalid:
		title = "Velora.Dock.Error.Invalid.Title";
		fallback = "Velora.Dock.Error.Invalid.Text";
		break;
	case VeloraErrorKind_Login:
		title = "Velora.Dock.Error.Login.Title";
		fallback = "Velora.Dock.Error.Login.Text";
		if (s.phase == VeloraPhase_LoggedOut)
			action = "Velora.Dock.Error.TryAgain";
		break;
	case VeloraErrorKind_None:
	case VeloraErrorKind_Other:
		break;
	}

	m_bannerTitle->setText(text(title));
	m_bannerText->setText(s.errorText.isEmpty() ? text(fallback) : s.errorText);
	const QString said = m_bannerTitle->text() + QStringLiteral(": ") + m_bannerText->text();
	if (said != m_announcedBanner) {
		m_announcedBanner = said;
		announce(m_banner, said, true);
	}

	const bool showAction = action && s.phase != VeloraPhase_LoggingIn;
	if (showAction) {
		m_bannerButton->setText(text(action));
		m_bannerButton->setAccessibleName(plain(text(action)));
	}
	m_bannerButton->setVisible(showAction);
	m_bannerButton->setEnabled(!s.busy);

	m_retryDeadline = s.retryInSecs >= 0 ? QDateTime::currentDateTimeUtc().addSecs(s.retryInSecs) : QDateTime();
	m_banner->show();
	renderRetry();
}

void VeloraDock::renderRetry()
{
	if (!m_retryDeadline.isValid() || m_banner->isHidden()) {
		m_bannerRetry->hide();
		return;
	}
	const qint64 left = std::max<qint64>(0, QDateTime::currentDateTimeUtc().secsTo(m_retryDeadline));
	m_bannerRetry->setText(left > 0 ? text("Velora.Dock.Error.RetryIn").arg(left)
					: text("Velora.Dock.Error.Retrying"));
	m_bannerRetry->show();
}

void VeloraDock::renderNotices()
{
	const DockState &s = m_state;
	const bool bannerShown = !m_banner->isHidden();

	/* Under "Update stream info": the answer to its latest click. */
	const Answer *info = m_requests.answer(Action::Info);
	QString infoText;
	if (info && !info->message.isEmpty()) {
		infoText = info->message;
		setTone(m_infoResult, info->ok ? Tone::Good : Tone::Error);
	} else if (s.phase == VeloraPhase_Ready && s.errorKind == VeloraErrorKind_Invalid) {
		/* A value another tool wrote into OBS's settings was refused. */
		infoText = s.errorText.isEmpty() ? text("Velora.Dock.Error.Invalid.Text") : s.errorText;
		setTone(m_infoResult, Tone::Error);
	}
	m_infoResult->setText(infoText);
	m_infoResult->setVisible(!infoText.isEmpty());

	/* At the top: the answer to the latest Use Velora / key / restore
	 * click. A failure the banner already explains is not said twice. */
	const Answer *answer = m_requests.answer(m_answerAction);
	/* "OBS now streams to Velora." stops being true when another service
	 * replaces Velora's (Settings › Stream, a tool) or loses its server. */
	const bool outdated = answer && answer->ok && m_answerAction == Action::Setup && !usingVelora();
	QString answerText;
	if (answer && !outdated && !answer->message.isEmpty() &&
	    !(bannerShown && !answer->ok && answer->message == s.errorText)) {
		answerText = answer->message;
		setTone(m_answer, answer->ok ? Tone::Good : Tone::Error);
	}
	m_answer->setText(answerText);
	m_answer->setVisible(!answerText.isEmpty());

	/* Refreshing the categories: only a failure is worth a line. */
	const Answer *cats = m_requests.answer(Action::Categories);
	const bool catsFailed = cats && !cats->ok && !cats->message.isEmpty() &&
				!(bannerShown && cats->message == s.errorText);
	m_categoriesResult->setText(catsFailed ? cats->message : QString());
	m_categoriesResult->setVisible(catsFailed);

	/* The core's own notice, unless it says what an answer above says. */
	const bool repeated = !s.noticeText.isEmpty() && (s.noticeText == answerText || s.noticeText == infoText);
	m_notice->setText(s.noticeText);
	m_notice->setVisible(!s.noticeText.isEmpty() && !repeated);

	/* Screen readers hear each new answer and notice once. */
	const QString said = !answerText.isEmpty() ? answerText : infoText;
	if (said != m_announcedAnswer) {
		m_announcedAnswer = said;
		if (!said.isEmpty())
			announce(!answerText.isEmpty() ? m_answer : m_infoResult, said, true);
	}
	const QString notice = m_notice->isVisibleTo(this) ? s.noticeText : QString();
	if (notice != m_announcedNotice) {
		m_announcedNotice = notice;
		if (!notice.isEmpty())
			announce(m_notice, notice, true);
	}
}

void VeloraDock::renderLoggedOut(bool first)
{
	const DockState &s = m_state;
	m_loginButton->setEnabled(!s.busy);

	if (!m_envChoicePending) {
		QSignalBlocker block(m_environment);
		const int index = m_environment->findData(int(s.environment));
		if (index >= 0)
			m_environment->setCurrentIndex(index);
	}
	if (!m_customUrl->hasFocus())
		m_customUrl->setText(s.customUrl);
	const bool custom = m_environment->currentData().toInt() == int(VeloraEnvironment_Custom);
	m_customUrlLabel->setVisible(custom);
	m_customUrl->setVisible(custom);
	m_apiBase->setText(text("Velora.Dock.ApiBase").arg(s.apiBaseUrl));
	/* The server in use; redundant right under the URL it came from. */
	m_apiBase->setVisible(!s.apiBaseUrl.isEmpty() && !(custom && s.apiBaseUrl == m_customUrl->text().trimmed()));

	/* Not on the production service: say so without being asked. */
	if (first && s.environment != VeloraEnvironment_Production)
		m_advancedToggle->setChecked(true);
}

void VeloraDock::renderLoggingIn()
{
	m_copyLink->setEnabled(!m_state.loginUrl.isEmpty());
	m_cancelLogin->setEnabled(true);
	m_loginDeadline = m_state.loginSecsLeft >= 0
				  ? QDateTime::currentDateTimeUtc().addSecs(m_state.loginSecsLeft)
				  : QDateTime();
	renderLoginCountdown();
}

void VeloraDock::renderLoginCountdown()
{
	if (m_state.phase != VeloraPhase_LoggingIn || !m_loginDeadline.isValid()) {
		m_loginTimeLeft->hide();
		return;
	}
	const qint64 left = std::max<qint64>(0, QDateTime::currentDateTimeUtc().secsTo(m_loginDeadline));
	m_loginTimeLeft->setText(text("Velora.Dock.TimeLeft").arg(minutesSeconds(left)));
	m_loginTimeLeft->show();
}

void VeloraDock::renderReady(const DockState &prev, bool first)
{
	const DockState &s = m_state;
	const bool entered = first || prev.phase != VeloraPhase_Ready;

	/* Never a dangling "Logged in as": without a name, say where. */
	if (s.account.trimmed().isEmpty()) {
		m_account->setText(text("Velora.Dock.LoggedIn").toHtmlEscaped());
	} else {
		const QString who = QStringLiteral("<b>%1</b>").arg(s.account.toHtmlEscaped());
		m_account->setText(text("Velora.Dock.LoggedInAs").toHtmlEscaped().arg(who));
	}
	renderStatusLine();

	const bool setupWaiting = m_requests.pending(Action::Setup);
	const bool restoreWaiting = m_requests.pending(Action::Restore);
	/* The core says what OBS's service is and what to tell about it. */
	m_inactive->setVisible(s.serviceMode != VeloraServiceMode_Velora);
	m_inactiveText->setText(s.serviceNote.isEmpty() ? text("Velora.Dock.NotActive") : s.serviceNote);
	m_useVelora->setEnabled(!s.busy && !setupWaiting);
	m_restoreInactive->setVisible(s.canRestore);
	m_restoreInactive->setEnabled(!s.busy && !restoreWaiting);
	m_restoreActive->setVisible(s.serviceActive && s.canRestore);
	m_restoreActive->setEnabled(!s.busy && !restoreWaiting);
	m_pending->setVisible(s.pendingApply);

	renderProtocols();
	m_protocol->setEnabled(!s.busy && !setupWaiting);

	/* Stream info. Which fields hold unsaved edits is judged against the
	 * old baseline, before it moves; those fields are never overwritten. */
	QString slug;
	const bool titleEdited = !entered && titleChanged();
	const bool categoryEdited = !entered && (!editedCategorySlug(&slug) || slug != m_baseCategory);
	const bool tagsEdited = !entered && tagsChanged();
	const bool changed = prev.infoGeneration != s.infoGeneration || prev.title != s.title ||
			     prev.categorySlug != s.categorySlug || prev.tags != s.tags;
	m_baseTitle = s.title;
	m_baseCategory = s.categorySlug;
	m_baseTags = normalizeTags(s.tags);
	/* A refill can turn a shown slug into the category's name. */
	const bool refilled = renderCategories();
	if (entered || changed || refilled)
		loadInfoEditors(!titleEdited, !categoryEdited, !tagsEdited);

	m_refreshCategories->setEnabled(!s.busy && !m_requests.pending(Action::Categories));
	/* The core fetches categories on request only: ask once per login, when
	 * someone can see the picker and it is empty. */
	if (entered)
		m_categoriesRequested = false;
	if (s.categories.isEmpty() && !m_categoriesRequested && !s.busy && isVisible() && m_api->refresh_categories) {
		m_categoriesRequested = true;
		sent(Action::Categories, m_api->refresh_categories());
	}
	renderCategoryIcons();
	renderCategoryPicture();

	/* Stream key: a new key (or a new account) hides a revealed one. */
	if (entered || prev.keyHint != s.keyHint || !m_reveal->isChecked())
		hideKey();
	m_reveal->setVisible(!s.keyHint.isEmpty());
	m_regenerate->setEnabled(!s.busy && !m_requests.pending(Action::Regenerate));
	m_logout->setEnabled(true); /* the way out stays open even while busy */

	updateInfoControls();
}

void VeloraDock::renderProtocols()
{
	struct Choice {
		VeloraProtocol protocol;
		const char *key;
	};
	const Choice all[] = {
		{VeloraProtocol_Rtmp, "Velora.Protocol.rtmp"},
		{VeloraProtocol_Srt, "Velora.Protocol.srt"},
		{VeloraProtocol_Whip, "Velora.Protocol.whip"},
	};
	QVector<int> wanted;
	for (const Choice &c : all) {
		if (c.protocol != VeloraProtocol_Whip || m_state.whipSupported || m_state.protocol == VeloraProtocol_Whip)
			wanted.push_back(int(c.protocol));
	}
	QVector<int> have;
	for (int i = 0; i < m_protocol->count(); i++)
		have.push_back(m_protocol->itemData(i).toInt());

	QSignalBlocker block(m_protocol);
	if (have != wanted) {
		m_protocol->clear();
		for (const Choice &c : all) {
			if (wanted.contains(int(c.protocol)))
				m_protocol->addItem(text(c.key), int(c.protocol));
		}
	}
	const int index = m_protocol->findData(int(m_state.protocol));
	if (index >= 0)
		m_protocol->setCurrentIndex(index);
}

void VeloraDock::loadInfoEditors(bool title, bool category, bool tags)
{
	/* Only fields that differ: the cursor of a field being looked at stays. */
	QSignalBlocker b1(m_title), b2(m_category), b3(m_tags);
	if (title && m_title->text() != m_baseTitle) {
		m_title->setText(m_baseTitle);
		m_title->setCursorPosition(0);
	}
	const int index = m_baseCategory.isEmpty() ? -1 : m_category->findData(m_baseCategory);
	const QString name = index >= 0 ? m_category->itemText(index) : QString();
	if (category && (m_category->currentIndex() != index || m_category->currentText() != name)) {
		m_category->setCurrentIndex(index);
		m_category->setEditText(name);
		m_category->lineEdit()->setCursorPosition(0);
	}
	if (tags && m_tags->text() != m_baseTags) {
		m_tags->setText(m_baseTags);
		m_tags->setCursorPosition(0);
	}
}

void VeloraDock::renderStatusLine()
{
	const DockState &s = m_state;
	if (s.phase != VeloraPhase_Ready)
		return;
	if (!s.isLive) {
		m_status->setText(text("Velora.Dock.Offline").toHtmlEscaped());
		setTone(m_status, Tone::Muted);
		return;
	}
	setTone(m_status, Tone::Normal);
	QStringList parts;
	parts << QStringLiteral("<span style=\"color:%1\">&#x25CF;</span>&nbsp;<b>%2</b>")
			 .arg(QLatin1String(kLiveRed), text("Velora.Dock.Live").toHtmlEscaped());
	const QString count = QLocale().toString(static_cast<qulonglong>(s.viewerCount));
	parts << text(s.viewerCount == 1 ? "Velora.Dock.Viewers.One" : "Velora.Dock.Viewers.Many")
			 .arg(count)
			 .toHtmlEscaped();
	if (s.startedAtUnix > 0)
		parts << hms(QDateTime::currentSecsSinceEpoch() - s.startedAtUnix);
	m_status->setText(parts.join(QStringLiteral(" &middot; ")));
}

void VeloraDock::updateInfoControls()
{
	const int length = static_cast<int>(editedTitle().toUcs4().size());
	const bool tooLong = length > kTitleLimit;
	m_titleCounter->setText(text("Velora.Dock.TitleCounter").arg(length).arg(kTitleLimit));
	setTone(m_titleCounter, tooLong ? Tone::Error : Tone::Muted);
	m_titleCounter->setToolTip(tooLong ? text("Velora.Dock.TitleTooLong").arg(kTitleLimit) : QString());
	m_titleWarning->setToolTip(m_titleCounter->toolTip());
	m_titleWarning->setVisible(tooLong);

	QString slug;
	const bool categoryKnown = editedCategorySlug(&slug);
	m_categoryHint->setVisible(!categoryKnown);

	const bool dirty = titleChanged() || categoryChanged() || tagsChanged();
	m_update->setEnabled(m_api && m_state.phase == VeloraPhase_Ready && !m_state.busy && dirty &&
			     categoryKnown && !tooLong && !m_requests.pending(Action::Info));
}

void VeloraDock::updateTicker()
{
	if (!m_built) {
		m_ticker.stop();
		return;
	}
	const bool live = m_state.phase == VeloraPhase_Ready && m_state.isLive && m_state.startedAtUnix > 0;
	const bool countdown = m_retryDeadline.isValid() && !m_banner->isHidden();
	const bool login = m_state.phase == VeloraPhase_LoggingIn && m_loginDeadline.isValid();
	const bool need = m_api && isVisible() && (live || countdown || login);
	if (need && !m_ticker.isActive())
		m_ticker.start();
	else if (!need && m_ticker.isActive())
		m_ticker.stop();
}

} // namespace velora
