/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening the dock's fonts ahead of the renders that draw with them. */
#pragma once

#include <QFont>
#include <QList>
#include <QString>

class QWidget;

namespace velora {

/* The fonts the text under `root` can be drawn with: its widgets' fonts
 * (as styled), the bold of the labels' fonts (rich text uses <b>) and the
 * system's fixed-width font. `*sample` receives the characters to lay out
 * with each: ASCII, the widgets' texts and `extra`. */
QList<QFont> fontsToWarm(QWidget *root, const QString &extra, QString *sample);

/* Lays `sample` out in `font`: Qt opens the font's file, and the fallback
 * fonts for characters it lacks, now rather than in a later render. */
void warmFont(const QFont &font, const QString &sample);

} // namespace velora
