/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
#include "velora_dock.hpp"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QCompleter>
#include <QFontDatabase>
#include <QFormLayout>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace velora {

namespace {

constexpr int kTitleLimit = VELORA_TITLE_MAX_CHARS; /* Unicode scalar values, not bytes */
constexpr int kRevealMs = 10000;   /* a revealed key hides itself after this */
constexpr int kCopiedMs = 2000;    /* how long "Link copied" stays */
constexpr int kMinimumWidth = 260;
constexpr int kPreferredWidth = 320;
constexpr int kPreferredHeight = 520;
/* The one hard-coded color: the red dot of the LIVE indicator. */
constexpr const char *kLiveRed = "#e5484d";

/* "Pr&otocol:" -> "Protocol": an accessible name from a visible label. */
QString plain(QString s)
{
	s.replace(QStringLiteral("&&"), QStringLiteral("\x01"));
	s.remove(QLatin1Char('&'));
	s.replace(QLatin1Char('\x01'), QLatin1Char('&'));
	s = s.trimmed();
	while (s.endsWith(QLatin1Char(':')) || s.endsWith(QChar(0x2026)))
		s.chop(1);
	return s.trimmed();
}

void repolish(QWidget *w)
{
	w->style()->unpolish(w);
	w->style()->polish(w);
	w->update();
}

QVBoxLayout *vbox(QWidget *w, int spacing)
{
	auto *l = new QVBoxLayout(w);
	l->setContentsMargins(0, 0, 0, 0);
	l->setSpacing(spacing);
	return l;
}

void retainSizeWhenHidden(QWidget *w)
{
	QSizePolicy sp = w->sizePolicy();
	sp.setRetainSizeWhenHidden(true);
	w->setSizePolicy(sp);
}

void narrowCombo(QComboBox *c)
{
	/* Long entries must not make the dock wider than the user wants. */
	c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
	c->setMinimumContentsLength(6);
	c->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

QString hms(int64_t secs)
{
	secs = std::max<int64_t>(0, secs);
	const QChar zero(QLatin1Char('0'));
	return QStringLiteral("%1:%2:%3")
		.arg(static_cast<qlonglong>(secs / 3600), 2, 10, zero)
		.arg(static_cast<qlonglong>((secs / 60) % 60), 2, 10, zero)
		.arg(static_cast<qlonglong>(secs % 60), 2, 10, zero);
}

/* A modal question that survives the dock being deleted while it is open
 * (OBS closing): returns the role of the clicked button, or RejectRole. */
QMessageBox::ButtonRole ask(QWidget *parent, QMessageBox::Icon icon, const QString &title, const QString &text,
			    const QString &info, const QList<QPair<QString, QMessageBox::ButtonRole>> &buttons,
			    int defaultIndex)
{
	QPointer<QMessageBox> box = new QMessageBox(icon, title, text, QMessageBox::NoButton, parent);
	box->setInformativeText(info);
	QList<QPushButton *> made;
	for (const auto &b : buttons)
		made.push_back(box->addButton(b.first, b.second));
	if (defaultIndex >= 0 && defaultIndex < made.size()) {
		box->setDefaultButton(made[defaultIndex]);
		box->setEscapeButton(made.back());
	}
	box->exec();
	if (!box)
		return QMessageBox::RejectRole;
	QMessageBox::ButtonRole role = box->buttonRole(box->clickedButton());
	delete box;
	return role;
}

} // namespace

/* ------------------------------------------------------------------------ */
/* construction                                                              */

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
		renderStatusLine();
		renderRetry();
		updateTicker();
	});
	m_keyTimer.setSingleShot(true);
	m_keyTimer.setInterval(kRevealMs);
	connect(&m_keyTimer, &QTimer::timeout, this, [this] { hideKey(); });
	m_copiedTimer.setSingleShot(true);
	m_copiedTimer.setInterval(kCopiedMs);
	connect(&m_copiedTimer, &QTimer::timeout, this, [this] { m_copied->hide(); });
}

void VeloraDock::ensureBuilt()
{
	/* The contents are built the first time the dock is shown: a dock the
	 * user keeps closed costs OBS's start-up nothing. */
	if (m_built || !m_api)
		return;
	m_built = true;

	auto *content = new QWidget(m_scroll);
	content->setObjectName(QStringLiteral("VeloraDockPage"));
	auto *layout = new QVBoxLayout(content);
	layout->setContentsMargins(6, 6, 6, 6);
	layout->setSpacing(8);

	buildBanner(content);
	layout->addWidget(m_banner);
	/* The core's notices ("OBS now streams to Velora."), in every phase;
	 * the answer to "Update stream info" shows under that button instead. */
	m_notice = makeLabel(QString(), content, Tone::Good);
	m_notice->setTextInteractionFlags(Qt::TextSelectableByMouse);
	m_notice->setAccessibleName(plain(text("Velora.Dock.Acc.Notice")));
	m_notice->hide();
	layout->addWidget(m_notice);
	m_loggedOut = buildLoggedOut(content);
	layout->addWidget(m_loggedOut);
	m_loggingIn = buildLoggingIn(content);
	layout->addWidget(m_loggingIn);
	m_ready = buildReady(content);
	layout->addWidget(m_ready);

	/* At the bottom and keeping its line when hidden: busy toggles often
	 * (every poll) and must not make the content jump. */
	m_working = makeLabel(text("Velora.Dock.Working"), content, Tone::Muted);
	m_working->setAccessibleName(plain(text("Velora.Dock.Working")));
	QFont italic = m_working->font();
	italic.setItalic(true);
	m_working->setFont(italic);
	retainSizeWhenHidden(m_working);
	m_working->hide();
	layout->addWidget(m_working);
	layout->addStretch(1);

	m_loggedOut->hide();
	m_loggingIn->hide();
	m_ready->hide();
	m_banner->hide();
	m_scroll->setWidget(content);
	refresh();
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

void VeloraDock::buildBanner(QWidget *parent)
{
	m_banner = new QFrame(parent);
	m_banner->setObjectName(QStringLiteral("VeloraErrorBanner"));
	m_banner->setFrameShape(QFrame::StyledPanel);
	m_banner->setProperty("class", "frame-notice"); /* OBS 31+ themes */
	m_banner->setAccessibleName(text("Velora.Dock.Acc.Banner"));

	auto *grid = new QGridLayout(m_banner);
	grid->setContentsMargins(8, 8, 8, 8);
	grid->setHorizontalSpacing(8);
	grid->setVerticalSpacing(4);

	m_bannerIcon = new QLabel(m_banner);
	const int icon = style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this);
	m_bannerIcon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning, nullptr, this).pixmap(icon, icon));
	m_bannerIcon->setAlignment(Qt::AlignTop | Qt::AlignHCenter);
	grid->addWidget(m_bannerIcon, 0, 0, 4, 1, Qt::AlignTop);

	m_bannerTitle = makeLabel(QString(), m_banner);
	QFont bold = m_bannerTitle->font();
	bold.setBold(true);
	m_bannerTitle->setFont(bold);
	grid->addWidget(m_bannerTitle, 0, 1);

	m_bannerText = makeLabel(QString(), m_banner);
	m_bannerText->setTextInteractionFlags(Qt::TextSelectableByMouse);
	grid->addWidget(m_bannerText, 1, 1);

	m_bannerRetry = makeLabel(QString(), m_banner, Tone::Muted);
	grid->addWidget(m_bannerRetry, 2, 1);

	m_bannerButton = new QPushButton(m_banner);
	m_bannerButton->setObjectName(QStringLiteral("VeloraBannerAction"));
	connect(m_bannerButton, &QPushButton::clicked, this, [this] {
		if (m_api)
			m_api->login();
	});
	grid->addWidget(m_bannerButton, 3, 1, Qt::AlignLeft);
	grid->setColumnStretch(1, 1);
}

QWidget *VeloraDock::buildLoggedOut(QWidget *parent)
{
	auto *page = new QWidget(parent);
	page->setObjectName(QStringLiteral("VeloraLoggedOut"));
	auto *v = vbox(page, 8);

	auto *intro = makeLabel(text("Velora.Dock.Intro"), page);
	v->addWidget(intro);

	m_loginButton = new QPushButton(text("Velora.Dock.Login"), page);
	m_loginButton->setObjectName(QStringLiteral("VeloraLoginButton"));
	m_loginButton->setProperty("class", "button-primary"); /* OBS 31+ themes */
	m_loginButton->setAccessibleName(plain(text("Velora.Dock.Login")));
	m_loginButton->setAccessibleDescription(text("Velora.Dock.Intro"));
	connect(m_loginButton, &QPushButton::clicked, this, [this] {
		if (m_api)
			m_api->login();
	});
	v->addWidget(m_loginButton);

	m_advancedToggle = new QToolButton(page);
	m_advancedToggle->setText(text("Velora.Dock.Advanced"));
	m_advancedToggle->setCheckable(true);
	m_advancedToggle->setAutoRaise(true);
	m_advancedToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
	m_advancedToggle->setArrowType(Qt::RightArrow);
	m_advancedToggle->setAccessibleName(plain(text("Velora.Dock.Advanced")));
	v->addWidget(m_advancedToggle, 0, Qt::AlignLeft);

	m_advanced = new QWidget(page);
	auto *form = new QFormLayout(m_advanced);
	form->setContentsMargins(0, 0, 0, 0);
	form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
	form->setRowWrapPolicy(QFormLayout::WrapLongRows);

	m_environment = new QComboBox(m_advanced);
	narrowCombo(m_environment);
	m_environment->addItem(text("Velora.Dock.Env.Production"), int(VeloraEnvironment_Production));
	m_environment->addItem(text("Velora.Dock.Env.Sandbox"), int(VeloraEnvironment_Sandbox));
	m_environment->addItem(text("Velora.Dock.Env.Custom"), int(VeloraEnvironment_Custom));
	m_environment->setAccessibleName(plain(text("Velora.Dock.Environment")));
	auto *envLabel = new QLabel(text("Velora.Dock.Environment"), m_advanced);
	envLabel->setBuddy(m_environment);
	form->addRow(envLabel, m_environment);
	connect(m_environment, QOverload<int>::of(&QComboBox::activated), this,
		[this](int index) { onEnvironmentActivated(index); });

	m_customUrl = new QLineEdit(m_advanced);
	m_customUrl->setPlaceholderText(text("Velora.Dock.CustomUrl.Placeholder"));
	m_customUrl->setAccessibleName(plain(text("Velora.Dock.CustomUrl")));
	m_customUrl->setInputMethodHints(Qt::ImhUrlCharactersOnly | Qt::ImhNoAutoUppercase);
	m_customUrlLabel = new QLabel(text("Velora.Dock.CustomUrl"), m_advanced);
	m_customUrlLabel->setBuddy(m_customUrl);
	form->addRow(m_customUrlLabel, m_customUrl);
	connect(m_customUrl, &QLineEdit::editingFinished, this, [this] { onCustomUrlEdited(); });

	m_apiBase = makeLabel(QString(), m_advanced, Tone::Muted);
	m_apiBase->setTextInteractionFlags(Qt::TextSelectableByMouse);
	m_apiBase->setAccessibleName(plain(text("Velora.Dock.Acc.Server")));
	form->addRow(m_apiBase);

	m_advanced->hide();
	v->addWidget(m_advanced);
	connect(m_advancedToggle, &QToolButton::toggled, this, [this](bool on) {
		m_advancedToggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
		m_advanced->setVisible(on);
	});
	return page;
}

QWidget *VeloraDock::buildLoggingIn(QWidget *parent)
{
	auto *page = new QWidget(parent);
	page->setObjectName(QStringLiteral("VeloraLoggingIn"));
	auto *v = vbox(page, 8);

	auto *waiting = makeLabel(text("Velora.Dock.Waiting"), page);
	QFont bold = waiting->font();
	bold.setBold(true);
	waiting->setFont(bold);
	v->addWidget(waiting);
	v->addWidget(makeLabel(text("Velora.Dock.WaitingHint"), page));

	auto *row = new QHBoxLayout();
	row->setSpacing(6);
	m_copyLink = new QPushButton(text("Velora.Dock.CopyLink"), page);
	m_copyLink->setAccessibleName(plain(text("Velora.Dock.CopyLink")));
	connect(m_copyLink, &QPushButton::clicked, this, [this] { onCopyLink(); });
	row->addWidget(m_copyLink);
	m_cancelLogin = new QPushButton(text("Velora.Dock.Cancel"), page);
	m_cancelLogin->setAccessibleName(plain(text("Velora.Dock.Cancel")));
	connect(m_cancelLogin, &QPushButton::clicked, this, [this] {
		if (m_api)
			m_api->cancel_login();
	});
	row->addWidget(m_cancelLogin);
	row->addStretch(1);
	v->addLayout(row);

	m_copied = makeLabel(text("Velora.Dock.LinkCopied"), page, Tone::Good);
	m_copied->setAccessibleName(plain(text("Velora.Dock.LinkCopied")));
	retainSizeWhenHidden(m_copied);
	m_copied->hide();
	v->addWidget(m_copied);
	return page;
}

QWidget *VeloraDock::buildReady(QWidget *parent)
{
	auto *page = new QWidget(parent);
	page->setObjectName(QStringLiteral("VeloraReady"));
	auto *v = vbox(page, 8);

	/* who and what */
	auto *header = new QVBoxLayout();
	header->setSpacing(2);
	m_account = new QLabel(page);
	m_account->setWordWrap(true);
	m_account->setTextFormat(Qt::RichText);
	m_account->setAccessibleName(plain(text("Velora.Dock.Acc.Account")));
	header->addWidget(m_account);
	m_status = new QLabel(page);
	m_status->setTextFormat(Qt::RichText);
	m_status->setWordWrap(true);
	m_status->setAccessibleName(plain(text("Velora.Dock.Acc.Status")));
	header->addWidget(m_status);
	v->addLayout(header);

	/* OBS does not stream to Velora */
	m_inactive = new QFrame(page);
	m_inactive->setObjectName(QStringLiteral("VeloraInactiveNotice"));
	m_inactive->setFrameShape(QFrame::StyledPanel);
	m_inactive->setProperty("class", "frame-notice");
	auto *iv = new QVBoxLayout(m_inactive);
	iv->setContentsMargins(8, 8, 8, 8);
	iv->setSpacing(6);
	iv->addWidget(makeLabel(text("Velora.Dock.NotActive"), m_inactive));
	m_useVelora = new QPushButton(text("Velora.Dock.UseVelora"), m_inactive);
	m_useVelora->setProperty("class", "button-primary");
	m_useVelora->setAccessibleName(plain(text("Velora.Dock.UseVelora")));
	m_useVelora->setAccessibleDescription(text("Velora.Dock.NotActive"));
	connect(m_useVelora, &QPushButton::clicked, this, [this] {
		if (m_api)
			m_api->use_velora(selectedProtocol());
	});
	iv->addWidget(m_useVelora);
	m_restoreInactive = new QPushButton(text("Velora.Dock.RestorePrevious"), m_inactive);
	m_restoreInactive->setAccessibleName(plain(text("Velora.Dock.RestorePrevious")));
	connect(m_restoreInactive, &QPushButton::clicked, this, [this] {
		if (m_api)
			m_api->restore_previous();
	});
	iv->addWidget(m_restoreInactive);
	v->addWidget(m_inactive);

	m_pending = makeLabel(text("Velora.Dock.PendingApply"), page, Tone::Warning);
	m_pending->setAccessibleName(plain(text("Velora.Dock.PendingApply")));
	v->addWidget(m_pending);

	/* stream info: labels above the fields, the dock is narrow */
	auto *info = new QGroupBox(text("Velora.Dock.StreamInfo"), page);
	info->setAccessibleName(plain(text("Velora.Dock.StreamInfo")));
	auto *iv2 = new QVBoxLayout(info);
	iv2->setSpacing(4);

	m_title = new QLineEdit(info);
	m_title->setPlaceholderText(text("Velora.Dock.StreamTitle.Placeholder"));
	m_title->setAccessibleName(plain(text("Velora.Dock.StreamTitle")));
	m_title->setClearButtonEnabled(false);
	auto *titleRow = new QHBoxLayout();
	titleRow->setSpacing(4);
	auto *titleLabel = new QLabel(text("Velora.Dock.StreamTitle"), info);
	titleLabel->setBuddy(m_title);
	titleRow->addWidget(titleLabel);
	titleRow->addStretch(1);
	m_titleWarning = new QLabel(info);
	const int icon = style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this);
	m_titleWarning->setPixmap(
		style()->standardIcon(QStyle::SP_MessageBoxWarning, nullptr, this).pixmap(icon, icon));
	m_titleWarning->setAccessibleName(text("Velora.Dock.TitleTooLong").arg(kTitleLimit));
	retainSizeWhenHidden(m_titleWarning);
	m_titleWarning->hide();
	titleRow->addWidget(m_titleWarning);
	m_titleCounter = new QLabel(info);
	m_titleCounter->setAccessibleName(plain(text("Velora.Dock.Acc.TitleLength")));
	titleRow->addWidget(m_titleCounter);
	iv2->addLayout(titleRow);
	iv2->addWidget(m_title);
	iv2->addSpacing(4);

	m_category = new QComboBox(info);
	narrowCombo(m_category);
	m_category->setEditable(true);
	m_category->setInsertPolicy(QComboBox::NoInsert);
	m_category->lineEdit()->setPlaceholderText(text("Velora.Dock.Category.Placeholder"));
	m_category->setAccessibleName(plain(text("Velora.Dock.Category")));
	auto *completer = new QCompleter(m_category->model(), m_category);
	completer->setCompletionMode(QCompleter::PopupCompletion);
	completer->setCaseSensitivity(Qt::CaseInsensitive);
	completer->setFilterMode(Qt::MatchContains);
	m_category->setCompleter(completer);
	auto *catLabel = new QLabel(text("Velora.Dock.Category"), info);
	catLabel->setBuddy(m_category);
	iv2->addWidget(catLabel);
	auto *catRow = new QHBoxLayout();
	catRow->setSpacing(4);
	catRow->addWidget(m_category, 1);
	m_refreshCategories = new QPushButton(info);
	m_refreshCategories->setIcon(style()->standardIcon(QStyle::SP_BrowserReload, nullptr, this));
	m_refreshCategories->setProperty("themeID", "refreshIconSmall"); /* OBS 29/30 themes */
	m_refreshCategories->setProperty("class", "icon-refresh");       /* OBS 31+ themes */
	m_refreshCategories->setProperty("toolButton", true);
	m_refreshCategories->setToolTip(text("Velora.Dock.RefreshCategories"));
	m_refreshCategories->setAccessibleName(plain(text("Velora.Dock.RefreshCategories")));
	connect(m_refreshCategories, &QPushButton::clicked, this, [this] {
		if (m_api)
			m_api->refresh_categories();
	});
	catRow->addWidget(m_refreshCategories);
	iv2->addLayout(catRow);
	m_categoryHint = makeLabel(text("Velora.Dock.Category.Unknown"), info, Tone::Warning);
	m_categoryHint->hide();
	iv2->addWidget(m_categoryHint);
	iv2->addSpacing(4);

	m_tags = new QLineEdit(info);
	m_tags->setPlaceholderText(text("Velora.Dock.Tags.Placeholder"));
	m_tags->setAccessibleName(plain(text("Velora.Dock.Tags")));
	m_tags->setAccessibleDescription(text("Velora.Dock.Tags.Placeholder"));
	auto *tagsLabel = new QLabel(text("Velora.Dock.Tags"), info);
	tagsLabel->setBuddy(m_tags);
	iv2->addWidget(tagsLabel);
	iv2->addWidget(m_tags);
	iv2->addSpacing(6);

	m_update = new QPushButton(text("Velora.Dock.Update"), info);
	m_update->setAccessibleName(plain(text("Velora.Dock.Update")));
	connect(m_update, &QPushButton::clicked, this, [this] { onUpdateInfo(); });
	iv2->addWidget(m_update);
	m_infoResult = makeLabel(QString(), info);
	m_infoResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
	m_infoResult->setAccessibleName(plain(text("Velora.Dock.Acc.InfoResult")));
	m_infoResult->hide();
	iv2->addWidget(m_infoResult);
	v->addWidget(info);

	connect(m_title, &QLineEdit::textChanged, this, [this] { updateInfoControls(); });
	connect(m_category, &QComboBox::editTextChanged, this, [this] { updateInfoControls(); });
	connect(m_tags, &QLineEdit::textChanged, this, [this] { updateInfoControls(); });
	connect(m_title, &QLineEdit::returnPressed, this, [this] {
		if (m_update->isEnabled())
			onUpdateInfo();
	});
	connect(m_tags, &QLineEdit::returnPressed, this, [this] {
		if (m_update->isEnabled())
			onUpdateInfo();
	});

	/* how OBS streams */
	auto *setup = new QGroupBox(text("Velora.Dock.StreamSetup"), page);
	setup->setAccessibleName(plain(text("Velora.Dock.StreamSetup")));
	auto *form = new QFormLayout(setup);
	form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
	form->setRowWrapPolicy(QFormLayout::WrapLongRows);
	form->setVerticalSpacing(6);

	m_protocol = new QComboBox(setup);
	narrowCombo(m_protocol);
	m_protocol->setAccessibleName(plain(text("Velora.Dock.Protocol")));
	auto *protoLabel = new QLabel(text("Velora.Dock.Protocol"), setup);
	protoLabel->setBuddy(m_protocol);
	form->addRow(protoLabel, m_protocol);
	connect(m_protocol, QOverload<int>::of(&QComboBox::activated), this,
		[this](int index) { onProtocolActivated(index); });

	m_key = new QLineEdit(setup);
	m_key->setReadOnly(true);
	m_key->setAccessibleName(plain(text("Velora.Dock.StreamKey")));
	m_key->setContextMenuPolicy(Qt::NoContextMenu);
	m_reveal = new QPushButton(text("Velora.Dock.Reveal"), setup);
	m_reveal->setCheckable(true);
	m_reveal->setAccessibleName(plain(text("Velora.Dock.Reveal")));
	m_reveal->setAccessibleDescription(text("Velora.Dock.RevealHint"));
	m_reveal->setToolTip(text("Velora.Dock.RevealHint"));
	connect(m_reveal, &QPushButton::toggled, this, [this](bool on) { onRevealToggled(on); });
	auto *keyRow = new QHBoxLayout();
	keyRow->setSpacing(4);
	keyRow->addWidget(m_key, 1);
	keyRow->addWidget(m_reveal);
	auto *keyLabel = new QLabel(text("Velora.Dock.StreamKey"), setup);
	keyLabel->setBuddy(m_key);
	form->addRow(keyLabel, keyRow);

	m_regenerate = new QPushButton(text("Velora.Dock.Regenerate"), setup);
	m_regenerate->setAccessibleName(plain(text("Velora.Dock.Regenerate")));
	connect(m_regenerate, &QPushButton::clicked, this, [this] { onRegenerate(); });
	form->addRow(m_regenerate);

	m_restoreActive = new QPushButton(text("Velora.Dock.RestorePrevious"), setup);
	m_restoreActive->setAccessibleName(plain(text("Velora.Dock.RestorePrevious")));
	connect(m_restoreActive, &QPushButton::clicked, this, [this] {
		if (m_api)
			m_api->restore_previous();
	});
	form->addRow(m_restoreActive);
	v->addWidget(setup);

	auto *bottom = new QHBoxLayout();
	m_logout = new QPushButton(text("Velora.Dock.Logout"), page);
	m_logout->setAccessibleName(plain(text("Velora.Dock.Logout")));
	connect(m_logout, &QPushButton::clicked, this, [this] { onLogout(); });
	bottom->addWidget(m_logout);
	bottom->addStretch(1);
	v->addLayout(bottom);

	/* Creation order already is the visual order; make the one jump that
	 * differs (the refresh button sits between category and tags) explicit. */
	setTabOrder(m_title, m_category);
	setTabOrder(m_category, m_refreshCategories);
	setTabOrder(m_refreshCategories, m_tags);
	setTabOrder(m_tags, m_update);
	return page;
}

/* ------------------------------------------------------------------------ */
/* state → widgets                                                           */

void VeloraDock::refresh()
{
	if (!m_built || !m_api || !m_api->state_get || !m_api->state_free)
		return;
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

	renderBanner();
	renderNotices(prev);
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
	m_banner->setAccessibleDescription(m_bannerTitle->text() + QStringLiteral(": ") + m_bannerText->text());

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

void VeloraDock::renderNotices(const DockState &prev)
{
	const DockState &s = m_state;
	/* A notice or a rejection that arrives after "Update stream info" was
	 * clicked is that button's answer. */
	if (m_infoUpdatePending && s.phase == VeloraPhase_Ready && !s.busy &&
	    (s.noticeText != prev.noticeText || s.errorKind == VeloraErrorKind_Invalid)) {
		m_infoUpdatePending = false;
		m_infoNotice = s.errorKind == VeloraErrorKind_Invalid ? QString() : s.noticeText;
	}
	if (s.phase != VeloraPhase_Ready) {
		m_infoUpdatePending = false;
		m_infoNotice.clear();
	}
	const bool infoNotice = !s.noticeText.isEmpty() && s.noticeText == m_infoNotice;

	if (s.phase == VeloraPhase_Ready && s.errorKind == VeloraErrorKind_Invalid) {
		m_infoResult->setText(s.errorText.isEmpty() ? text("Velora.Dock.Error.Invalid.Text") : s.errorText);
		setTone(m_infoResult, Tone::Error);
		m_infoResult->show();
	} else if (infoNotice) {
		m_infoResult->setText(s.noticeText);
		setTone(m_infoResult, Tone::Good);
		m_infoResult->show();
	} else {
		m_infoResult->hide();
	}
	m_notice->setText(s.noticeText);
	m_notice->setVisible(!s.noticeText.isEmpty() && !infoNotice);
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
}

void VeloraDock::renderReady(const DockState &prev, bool first)
{
	const DockState &s = m_state;
	const bool entered = first || prev.phase != VeloraPhase_Ready;

	const QString who = QStringLiteral("<b>%1</b>").arg(s.account.toHtmlEscaped());
	m_account->setText(text("Velora.Dock.LoggedInAs").toHtmlEscaped().arg(who));
	renderStatusLine();

	m_inactive->setVisible(!s.serviceActive);
	m_useVelora->setEnabled(!s.busy);
	m_restoreInactive->setVisible(s.canRestore);
	m_restoreInactive->setEnabled(!s.busy);
	m_restoreActive->setVisible(s.serviceActive && s.canRestore);
	m_restoreActive->setEnabled(!s.busy);
	m_pending->setVisible(s.pendingApply);

	renderProtocols();
	m_protocol->setEnabled(!s.busy);

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

	m_refreshCategories->setEnabled(!s.busy);
	/* The core fetches categories on request only: ask once per login, when
	 * someone can see the picker and it is empty. */
	if (entered)
		m_categoriesRequested = false;
	if (s.categories.isEmpty() && !m_categoriesRequested && !s.busy && isVisible() && m_api->refresh_categories) {
		m_categoriesRequested = true;
		m_api->refresh_categories();
	}

	/* Stream key: a new key (or a new account) hides a revealed one. */
	if (entered || prev.keyHint != s.keyHint || !m_reveal->isChecked())
		hideKey();
	m_reveal->setVisible(!s.keyHint.isEmpty());
	m_regenerate->setEnabled(!s.busy);
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

bool VeloraDock::renderCategories()
{
	/* Categories not loaded (yet): the baseline's slug is shown as an extra item. */
	bool baseListed = m_baseCategory.isEmpty();
	for (const Category &c : m_state.categories)
		baseListed = baseListed || c.slug == m_baseCategory;
	const int wanted = static_cast<int>(m_state.categories.size()) + (baseListed ? 0 : 1);
	if (m_shownCategories == m_state.categories && m_category->count() == wanted &&
	    (baseListed || m_category->findData(m_baseCategory) >= 0))
		return false;

	/* Refilling must not disturb someone typing in the field. */
	QLineEdit *edit = m_category->lineEdit();
	const QString typed = edit->text();
	const int cursor = edit->cursorPosition();
	QSignalBlocker block(m_category);
	m_category->clear();
	for (const Category &c : m_state.categories)
		m_category->addItem(c.name.isEmpty() ? c.slug : c.name, c.slug);
	if (!baseListed)
		m_category->addItem(m_baseCategory, m_baseCategory);
	m_category->setCurrentIndex(-1);
	m_category->setEditText(typed);
	edit->setCursorPosition(edit->hasFocus() ? cursor : 0);
	m_shownCategories = m_state.categories;
	return true;
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
			     categoryKnown && !tooLong);
}

void VeloraDock::updateTicker()
{
	if (!m_built) {
		m_ticker.stop();
		return;
	}
	const bool live = m_state.phase == VeloraPhase_Ready && m_state.isLive && m_state.startedAtUnix > 0;
	const bool countdown = m_retryDeadline.isValid() && !m_banner->isHidden();
	const bool need = m_api && isVisible() && (live || countdown);
	if (need && !m_ticker.isActive())
		m_ticker.start();
	else if (!need && m_ticker.isActive())
		m_ticker.stop();
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

/* ------------------------------------------------------------------------ */
/* stream info editing                                                       */

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

/* ------------------------------------------------------------------------ */
/* actions                                                                   */

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
	m_api->set_environment(env, utf8.constData());
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
	m_api->set_environment(VeloraEnvironment_Custom, utf8.constData());
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
		m_api->use_velora(protocol);
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
	m_infoUpdatePending = true;
	/* NULL leaves a field as it is. An unchanged field is NULL even when
	 * empty, so title.isNull() (not isEmpty()) decides. */
	m_api->update_stream_info(title.isNull() ? nullptr : title.constData(),
				  category.isNull() ? nullptr : category.constData(),
				  tags.isNull() ? nullptr : tags.constData());
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
		m_api->regenerate_key();
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

/* ------------------------------------------------------------------------ */
/* visibility and lifetime                                                   */

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
	if (!m_built)
		return;
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
	/* OBS's EXIT: stop talking to the core, change nothing on screen. A
	 * repaint requested now (setEnabled, setText) can run while OBS tears
	 * its window down and crashed OBS 29 in QWidget::paintBackground. */
	m_api = nullptr;
	m_ticker.stop();
	m_keyTimer.stop();
	m_copiedTimer.stop();
	/* No paint of ours while OBS destroys its window. */
	setUpdatesEnabled(false);
}

} // namespace velora
