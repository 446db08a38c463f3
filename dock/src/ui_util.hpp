/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers and the layout constants the dock's files share. */
#pragma once

#include "velora.h"

#include <QList>
#include <QMessageBox>
#include <QPair>
#include <QSize>
#include <QString>

#include <cstdint>

class QComboBox;
class QVBoxLayout;
class QWidget;

namespace velora {

inline constexpr int kTitleLimit = VELORA_TITLE_MAX_CHARS; /* Unicode scalar values, not bytes */
inline constexpr int kRevealMs = 10000;   /* a revealed key hides itself after this */
inline constexpr int kCopiedMs = 2000;    /* how long "Link copied" stays */
inline constexpr int kMinimumWidth = 260;
inline constexpr int kPreferredWidth = 320;
inline constexpr int kPreferredHeight = 520;
/* Category pictures: in the lists, and the one beside the field. */
inline constexpr QSize kListIcon(27, 36);
inline constexpr QSize kPreview(30, 40);
/* The one hard-coded color: the red dot of the LIVE indicator. */
inline constexpr const char *kLiveRed = "#e5484d";

/* "Pr&otocol:" -> "Protocol": an accessible name from a visible label. */
QString plain(QString s);
/* Re-applies the style after a dynamic property changed. */
void repolish(QWidget *w);
/* A vertical layout on `w` without margins. */
QVBoxLayout *vbox(QWidget *w, int spacing);
void retainSizeWhenHidden(QWidget *w);
/* Long entries must not make the dock wider than the user wants. */
void narrowCombo(QComboBox *c);
/* "4:59" */
QString minutesSeconds(int64_t secs);
/* "01:02:03" */
QString hms(int64_t secs);
/* A modal question that survives the dock being deleted while it is open
 * (OBS closing): returns the role of the clicked button, or RejectRole. */
QMessageBox::ButtonRole ask(QWidget *parent, QMessageBox::Icon icon, const QString &title, const QString &text,
			    const QString &info, const QList<QPair<QString, QMessageBox::ButtonRole>> &buttons,
			    int defaultIndex);

} // namespace velora
