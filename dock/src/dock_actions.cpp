/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* What the streamer edits and clicks: stream info edits against the
 * baseline, and every action sent to the core with its request id. */
#include "velora_dock.hpp"

#include "ui_util.hpp"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFontDatabase>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSignalBlocker>

namespace velora {

QString VeloraDock::editedTitle() const
{
	return m_title->text();
}

QString VeloraDock::editedTags() const
{
	return normalizeTags(m_tags->text());
}

bool VeloraDock::editedCategorySlug(QString *slug) const
{
	const QString typed = m_category->currentText().trimmed();
	if (typed.isEmpty()) {
		*slug = QString();
		return true;
	}
	const int index = m_category->findText(typed, Qt::MatchFixedString);
	if (index < 0)
		return false;
	*slug = m_category->itemData(index).toString();
	return true;
}

bool VeloraDock::titleChanged() const
{
	return editedTitle() != m_baseTitle;
}

bool VeloraDock::categoryChanged() const
{
	QString slug;
	return editedCategorySlug(&slug) && slug != m_baseCategory;
}

bool VeloraDock::tagsChanged() const
{
	return editedTags() != m_baseTags;
}

QString VeloraDock::normalizeTags(const QString &tags)
{
	QStringList out;
	for (const QString &t : tags.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
		const QString tag = t.trimmed();
		if (!tag.isEmpty())
			out << tag;
	}
	return out.join(QStringLiteral(", "));
}

void VeloraDock::onEnvironmentActivated(int index)
{
	if (!m_api)
		return;
	const auto env = static_cast<VeloraEnvironment>(m_environment->itemData(index).toInt());
	const bool custom = env == VeloraEnvironment_Custom;
	m_customUrlLabel->setVisible(custom);
	m_customUrl->setVisible(custom);
	const QString url = m_customUrl->text().trimmed();
	if (custom && url.isEmpty()) {
		/* Nothing to switch to yet: wait for the URL. */
		m_envChoicePending = true;
		m_customUrl->setFocus();
		return;
	}
	m_envChoicePending = false;
	const QByteArray utf8 = url.toUtf8();
	sent(Action::Environment, m_api->set_environment(env, utf8.constData()));
}

void VeloraDock::onCustomUrlEdited()
{
	if (!m_api || m_environment->currentData().toInt() != int(VeloraEnvironment_Custom))
		return;
	const QString url = m_customUrl->text().trimmed();
	if (url.isEmpty() || (url == m_state.customUrl && m_state.environment == VeloraEnvironment_Custom))
		return;
	m_envChoicePending = false;
	const QByteArray utf8 = url.toUtf8();
	sent(Action::Environment, m_api->set_environment(VeloraEnvironment_Custom, utf8.constData()));
}

void VeloraDock::onCopyLink()
{
	if (m_state.loginUrl.isEmpty())
		return;
	QGuiApplication::clipboard()->setText(m_state.loginUrl);
	m_copied->show();
	m_copiedTimer.start();
}

VeloraProtocol VeloraDock::selectedProtocol() const
{
	const QVariant v = m_protocol->currentData();
	return v.isValid() ? static_cast<VeloraProtocol>(v.toInt()) : m_state.protocol;
}

void VeloraDock::onProtocolActivated(int index)
{
	if (!m_api)
		return;
	const auto protocol = static_cast<VeloraProtocol>(m_protocol->itemData(index).toInt());
	if (protocol != m_state.protocol || !m_state.serviceActive)
		sent(Action::Setup, m_api->use_velora(protocol));
}

void VeloraDock::sent(Action action, uint64_t id)
{
	/* The answer shown for `action` from now on is this request's. */
	m_requests.started(action, id);
	if (action == Action::Setup || action == Action::Regenerate || action == Action::CheckKey ||
	    action == Action::Restore)
		m_answerAction = action;
	if (!m_built || !m_hasState)
		return;
	renderNotices();
	updateInfoControls();
	if (m_state.phase == VeloraPhase_Ready) {
		m_useVelora->setEnabled(!m_state.busy && !m_requests.pending(Action::Setup));
		m_protocol->setEnabled(!m_state.busy && !m_requests.pending(Action::Setup));
		m_regenerate->setEnabled(!m_state.busy && !m_requests.pending(Action::Regenerate));
		m_refreshCategories->setEnabled(!m_state.busy && !m_requests.pending(Action::Categories));
	}
	renderChecklist();
}

void VeloraDock::onUpdateInfo()
{
	if (!m_api || !m_update->isEnabled())
		return;
	QByteArray title, category, tags;
	QString slug;
	if (titleChanged())
		title = editedTitle().toUtf8();
	if (editedCategorySlug(&slug) && slug != m_baseCategory)
		category = slug.toUtf8();
	if (tagsChanged())
		tags = editedTags().toUtf8();
	/* NULL leaves a field as it is. An unchanged field is NULL even when
	 * empty, so title.isNull() (not isEmpty()) decides. */
	sent(Action::Info, m_api->update_stream_info(title.isNull() ? nullptr : title.constData(),
						     category.isNull() ? nullptr : category.constData(),
						     tags.isNull() ? nullptr : tags.constData()));
}

void VeloraDock::onRevealToggled(bool on)
{
	if (!on) {
		hideKey();
		return;
	}
	char *key = m_api && m_api->reveal_key ? m_api->reveal_key() : nullptr;
	if (!key) {
		hideKey();
		return;
	}
	m_key->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
	m_key->setText(QString::fromUtf8(key));
	m_api->string_free(key);
	m_key->setCursorPosition(0);
	m_reveal->setText(text("Velora.Dock.HideKey"));
	m_reveal->setAccessibleName(plain(text("Velora.Dock.HideKey")));
	m_keyTimer.start();
}

void VeloraDock::hideKey()
{
	m_keyTimer.stop();
	if (!m_built)
		return;
	{
		QSignalBlocker block(m_reveal);
		m_reveal->setChecked(false);
	}
	m_reveal->setText(text("Velora.Dock.Reveal"));
	m_reveal->setAccessibleName(plain(text("Velora.Dock.Reveal")));
	/* setText also drops the line edit's undo history. */
	const bool hasKey = !m_state.keyHint.isEmpty();
	m_key->setFont(hasKey ? QFontDatabase::systemFont(QFontDatabase::FixedFont) : font());
	m_key->setText(hasKey ? m_state.keyHint : text("Velora.Dock.StreamKey.None"));
}

void VeloraDock::onRegenerate()
{
	if (!m_api)
		return;
	const QString info = m_state.isLive ? text("Velora.Dock.Regenerate.LiveWarning")
					    : text("Velora.Dock.Regenerate.OfflineNote");
	QPointer<VeloraDock> self(this);
	const auto role = ask(this, m_state.isLive ? QMessageBox::Warning : QMessageBox::Question,
			      plain(text("Velora.Dock.Regenerate")), text("Velora.Dock.Regenerate.Question"),
			      text("Velora.Dock.Regenerate.Text") + QStringLiteral("\n\n") + info,
			      {{text("Velora.Dock.Regenerate.Confirm"), QMessageBox::DestructiveRole},
			       {text("Velora.Dock.Dialog.Cancel"), QMessageBox::RejectRole}},
			      1);
	if (self && m_api && role == QMessageBox::DestructiveRole)
		sent(Action::Regenerate, m_api->regenerate_key());
}

void VeloraDock::onLogout()
{
	if (!m_api)
		return;
	if (!m_state.canRestore) {
		m_api->logout(false);
		return;
	}
	QPointer<VeloraDock> self(this);
	const auto role = ask(this, QMessageBox::Question, plain(text("Velora.Dock.Logout")),
			      text("Velora.Dock.Logout.Question"), text("Velora.Dock.Logout.Text"),
			      {{text("Velora.Dock.Logout.Restore"), QMessageBox::YesRole},
			       {text("Velora.Dock.Logout.Keep"), QMessageBox::NoRole},
			       {text("Velora.Dock.Dialog.Cancel"), QMessageBox::RejectRole}},
			      0);
	if (!self || !m_api)
		return;
	if (role == QMessageBox::YesRole)
		m_api->logout(true);
	else if (role == QMessageBox::NoRole)
		m_api->logout(false);
}

} // namespace velora
