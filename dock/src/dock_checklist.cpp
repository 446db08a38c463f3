/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* The checklist before going live: logged in, streams to Velora, key checked
 * recently, title set; each open item a button that does it. */
#include "velora_dock.hpp"

#include "flow_layout.hpp"
#include "ui_util.hpp"

#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QToolButton>

#include <algorithm>

namespace velora {

QWidget *VeloraDock::buildChecklist(QWidget *parent)
{
	/* One glance before going live: each item says what is done, and an
	 * item that is not done is a button that fixes it. */
	auto *box = new QWidget(parent);
	box->setObjectName(QStringLiteral("VeloraChecklist"));
	box->setAccessibleName(plain(text("Velora.Dock.Check.Title")));
	auto *flow = new FlowLayout(box, 2, 0);
	m_checkHeader = makeLabel(text("Velora.Dock.Check.Title"), box, Tone::Muted);
	m_checkHeader->setWordWrap(false);
	flow->addWidget(m_checkHeader);
	auto item = [this, box, flow](const char *name) {
		auto *b = new QToolButton(box);
		b->setObjectName(QString::fromLatin1(name));
		b->setAutoRaise(true);
		b->setToolButtonStyle(Qt::ToolButtonTextOnly);
		flow->addWidget(b);
		return b;
	};
	m_checkLogin = item("VeloraCheckLogin");
	connect(m_checkLogin, &QToolButton::clicked, this, [this] {
		if (m_api && m_state.phase == VeloraPhase_LoggedOut)
			sent(Action::Login, m_api->login());
	});
	m_checkService = item("VeloraCheckService");
	connect(m_checkService, &QToolButton::clicked, this, [this] {
		if (m_api && m_state.phase == VeloraPhase_Ready && !usingVelora())
			sent(Action::Setup, m_api->use_velora(selectedProtocol()));
	});
	m_checkKey = item("VeloraCheckKey");
	connect(m_checkKey, &QToolButton::clicked, this, [this] {
		if (m_api && m_api->check_key && m_state.phase == VeloraPhase_Ready && !keyCheckedRecently())
			sent(Action::CheckKey, m_api->check_key());
	});
	m_checkTitle = item("VeloraCheckTitle");
	connect(m_checkTitle, &QToolButton::clicked, this, [this] {
		if (m_state.phase == VeloraPhase_Ready) {
			m_title->setFocus(Qt::OtherFocusReason);
			m_scroll->ensureWidgetVisible(m_title);
		}
	});
	/* The header sits on the items' line, centred like their text. */
	m_checkHeader->setAlignment(Qt::AlignLeft | Qt::AlignVCenter);
	m_checkHeader->setMinimumHeight(m_checkLogin->sizeHint().height());
	m_checkAll = item("VeloraCheckAll");
	m_checkAll->setText(QStringLiteral("\u2713 ") + text("Velora.Dock.Check.Ready"));
	m_checkAll->setFocusPolicy(Qt::NoFocus);
	m_checkAll->setAccessibleName(text("Velora.Dock.Check.Ready"));
	setTone(m_checkAll, Tone::Good);
	return box;
}

bool VeloraDock::keyCheckedRecently() const
{
	return m_keyCheckedAt.isValid() && m_state.keyCheckMaxAgeSecs > 0 &&
	       m_keyCheckedAt.secsTo(QDateTime::currentDateTimeUtc()) <= m_state.keyCheckMaxAgeSecs;
}

void VeloraDock::renderChecklist()
{
	const DockState &s = m_state;
	const bool show = m_built && !s.isLive && (s.phase == VeloraPhase_Ready || s.phase == VeloraPhase_LoggedOut);
	m_checklist->setVisible(show);
	m_checklistTimer.stop();
	if (!show)
		return;
	const bool ready = s.phase == VeloraPhase_Ready;
	const bool velora = usingVelora();
	m_keyCheckedAt = s.keyCheckedSecsAgo >= 0 ? QDateTime::currentDateTimeUtc().addSecs(-s.keyCheckedSecsAgo)
						  : QDateTime();
	const bool key = ready && velora && keyCheckedRecently();
	const bool title = !s.title.trimmed().isEmpty();

	enum class State { Done, Todo, Blocked };
	/* done: "✓ what is done"; to do: "○ what to do" (a button); blocked:
	 * greyed until an earlier item is done. */
	auto put = [this](QToolButton *b, State st, const char *doneKey, const char *todoKey, const QString &tip) {
		const QString what = text(st == State::Done ? doneKey : todoKey);
		b->setText((st == State::Done ? QStringLiteral("\u2713 ") : QStringLiteral("\u25cb ")) + what);
		b->setEnabled(st != State::Blocked);
		b->setFocusPolicy(st == State::Todo ? Qt::StrongFocus : Qt::NoFocus);
		b->setCursor(st == State::Todo ? Qt::PointingHandCursor : Qt::ArrowCursor);
		b->setToolTip(tip);
		b->setAccessibleName(
			text(st == State::Done ? "Velora.Dock.Check.Done" : "Velora.Dock.Check.Todo").arg(plain(what)));
		b->setAccessibleDescription(tip);
		setTone(b, st == State::Done ? Tone::Good : st == State::Todo ? Tone::Warning : Tone::Muted);
	};
	const QString needsLogin = text("Velora.Dock.Check.NeedsLogin");
	const QString needsVelora = text("Velora.Dock.Check.NeedsVelora");
	put(m_checkLogin, ready ? State::Done : State::Todo, "Velora.Dock.Check.LoggedIn", "Velora.Dock.Check.LogIn",
	    ready ? QString() : text("Velora.Dock.Intro"));
	put(m_checkService, velora && ready ? State::Done : ready ? State::Todo : State::Blocked,
	    "Velora.Dock.Check.UsingVelora", "Velora.Dock.Check.UseVelora",
	    !ready ? needsLogin
	    : velora ? QString()
		     : (s.serviceNote.isEmpty() ? text("Velora.Dock.NotActive") : s.serviceNote));
	QString keyTip;
	if (!ready)
		keyTip = needsLogin;
	else if (!velora)
		keyTip = needsVelora;
	else if (m_keyCheckedAt.isValid())
		keyTip = text("Velora.Dock.Check.KeyCheckedAgo")
				 .arg(std::max<qint64>(0, m_keyCheckedAt.secsTo(QDateTime::currentDateTimeUtc()) / 60));
	else
		keyTip = text("Velora.Dock.Check.KeyNotChecked");
	const bool keyWaiting = m_requests.pending(Action::CheckKey);
	put(m_checkKey, key ? State::Done : ready && velora && !keyWaiting ? State::Todo : State::Blocked,
	    "Velora.Dock.Check.KeyChecked", "Velora.Dock.Check.CheckKey", keyTip);
	put(m_checkTitle, title ? State::Done : ready ? State::Todo : State::Blocked, "Velora.Dock.Check.TitleSet",
	    "Velora.Dock.Check.SetTitle", ready || title ? QString() : needsLogin);

	const bool all = ready && velora && key && title;
	m_checkHeader->setVisible(!all);
	for (QToolButton *b : {m_checkLogin, m_checkService, m_checkKey, m_checkTitle})
		b->setVisible(!all);
	m_checkAll->setVisible(all);
	m_checklist->setAccessibleDescription(all ? text("Velora.Dock.Check.Ready") : QString());

	/* The key check grows old: draw again when it does. */
	if (key) {
		const qint64 left = m_state.keyCheckMaxAgeSecs - m_keyCheckedAt.secsTo(QDateTime::currentDateTimeUtc());
		m_checklistTimer.start(static_cast<int>(std::min<qint64>(std::max<qint64>(left + 1, 1), 3600) * 1000));
	}
}

} // namespace velora
