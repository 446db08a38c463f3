/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* Building the pages once: the banner, logged out, logging in, ready
 * (account, service, stream info, key, environment). */
#include "velora_dock.hpp"

#include "ui_util.hpp"

#include <QAbstractItemView>
#include <QComboBox>
#include <QCompleter>
#include <QFormLayout>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace velora {

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
			sent(Action::Login, m_api->login());
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
			sent(Action::Login, m_api->login());
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
	/* Busy while the browser has the login, with the time it has left. */
	auto *progress = new QHBoxLayout();
	progress->setSpacing(8);
	m_loginBusy = new QProgressBar(page);
	m_loginBusy->setObjectName(QStringLiteral("VeloraLoginBusy"));
	m_loginBusy->setRange(0, 0); /* busy: no known end */
	m_loginBusy->setTextVisible(false);
	m_loginBusy->setMaximumHeight(fontMetrics().height() / 2 + 4);
	m_loginBusy->setAccessibleName(plain(text("Velora.Dock.Acc.LoginProgress")));
	progress->addWidget(m_loginBusy, 1);
	m_loginTimeLeft = makeLabel(QString(), page, Tone::Muted);
	m_loginTimeLeft->setWordWrap(false);
	m_loginTimeLeft->setObjectName(QStringLiteral("VeloraLoginTimeLeft"));
	progress->addWidget(m_loginTimeLeft);
	v->addLayout(progress);
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
			sent(Action::Login, m_api->cancel_login());
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
	m_inactiveText = makeLabel(text("Velora.Dock.NotActive"), m_inactive);
	m_inactiveText->setObjectName(QStringLiteral("VeloraServiceNote"));
	iv->addWidget(m_inactiveText);
	m_useVelora = new QPushButton(text("Velora.Dock.UseVelora"), m_inactive);
	m_useVelora->setProperty("class", "button-primary");
	m_useVelora->setAccessibleName(plain(text("Velora.Dock.UseVelora")));
	m_useVelora->setAccessibleDescription(text("Velora.Dock.NotActive"));
	connect(m_useVelora, &QPushButton::clicked, this, [this] {
		if (m_api)
			sent(Action::Setup, m_api->use_velora(selectedProtocol()));
	});
	iv->addWidget(m_useVelora);
	m_restoreInactive = new QPushButton(text("Velora.Dock.RestorePrevious"), m_inactive);
	m_restoreInactive->setAccessibleName(plain(text("Velora.Dock.RestorePrevious")));
	connect(m_restoreInactive, &QPushButton::clicked, this, [this] {
		if (m_api)
			sent(Action::Restore, m_api->restore_previous());
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

	/* The category picker: type a few letters and the list filters itself
	 * (locally, over the categories the core fetched), each with its
	 * picture; the picture of the chosen one sits beside the field. */
	m_category = new QComboBox(info);
	m_category->setObjectName(QStringLiteral("VeloraCategory"));
	narrowCombo(m_category);
	m_category->setEditable(true);
	m_category->setInsertPolicy(QComboBox::NoInsert);
	m_category->lineEdit()->setPlaceholderText(text("Velora.Dock.Category.Placeholder"));
	m_category->setAccessibleName(plain(text("Velora.Dock.Category")));
	m_category->setAccessibleDescription(text("Velora.Dock.Category.Placeholder"));
	const PictureDelegate::Lookup picture = [this](const QString &slug) { return categoryIcon(slug); };
	m_category->setItemDelegate(new PictureDelegate(kListIcon, picture, m_category));
	auto *completer = new QCompleter(m_category->model(), m_category);
	completer->setCompletionMode(QCompleter::PopupCompletion);
	completer->setCaseSensitivity(Qt::CaseInsensitive);
	completer->setFilterMode(Qt::MatchContains);
	completer->setMaxVisibleItems(8);
	m_category->setCompleter(completer);
	completer->popup()->setItemDelegate(new PictureDelegate(kListIcon, picture, completer->popup()));
	completer->popup()->setObjectName(QStringLiteral("VeloraCategoryPopup"));
	auto *catLabel = new QLabel(text("Velora.Dock.Category"), info);
	catLabel->setBuddy(m_category);
	iv2->addWidget(catLabel);
	auto *catRow = new QHBoxLayout();
	catRow->setSpacing(4);
	m_categoryPicture = new QLabel(info);
	m_categoryPicture->setObjectName(QStringLiteral("VeloraCategoryPicture"));
	m_categoryPicture->setFixedSize(kPreview);
	m_categoryPicture->setAlignment(Qt::AlignCenter);
	m_categoryPicture->setAccessibleName(plain(text("Velora.Dock.Acc.CategoryPicture")));
	catRow->addWidget(m_categoryPicture, 0, Qt::AlignVCenter);
	catRow->addWidget(m_category, 1, Qt::AlignVCenter);
	m_refreshCategories = new QPushButton(info);
	m_refreshCategories->setIcon(style()->standardIcon(QStyle::SP_BrowserReload, nullptr, this));
	m_refreshCategories->setProperty("themeID", "refreshIconSmall"); /* OBS 29/30 themes */
	m_refreshCategories->setProperty("class", "icon-refresh");       /* OBS 31+ themes */
	m_refreshCategories->setProperty("toolButton", true);
	m_refreshCategories->setToolTip(text("Velora.Dock.RefreshCategories"));
	m_refreshCategories->setAccessibleName(plain(text("Velora.Dock.RefreshCategories")));
	connect(m_refreshCategories, &QPushButton::clicked, this, [this] {
		if (m_api)
			sent(Action::Categories, m_api->refresh_categories());
	});
	catRow->addWidget(m_refreshCategories, 0, Qt::AlignVCenter);
	iv2->addLayout(catRow);
	m_categoryHint = makeLabel(text("Velora.Dock.Category.Unknown"), info, Tone::Warning);
	m_categoryHint->hide();
	iv2->addWidget(m_categoryHint);
	m_categoriesResult = makeLabel(QString(), info, Tone::Error);
	m_categoriesResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
	m_categoriesResult->hide();
	iv2->addWidget(m_categoriesResult);
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
	connect(m_category, &QComboBox::editTextChanged, this, [this] {
		updateInfoControls();
		renderCategoryPicture();
	});
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
			sent(Action::Restore, m_api->restore_previous());
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

} // namespace velora
