/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
#include "ui_util.hpp"

#include <QComboBox>
#include <QPointer>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>
#include <QWidget>

#include <algorithm>

namespace velora {

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

/* "4:59" */
QString minutesSeconds(int64_t secs)
{
	secs = std::max<int64_t>(0, secs);
	return QStringLiteral("%1:%2")
		.arg(static_cast<qlonglong>(secs / 60))
		.arg(static_cast<qlonglong>(secs % 60), 2, 10, QLatin1Char('0'));
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

} // namespace velora
