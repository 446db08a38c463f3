/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* Qt opens a font file (FT_New_Face, which reads it through page faults)
 * the first time a glyph from it is laid out. Left to the first render that
 * needs it, that open ran inside a snapshot rendering and held OBS's UI
 * thread past a frame on a busy machine whose disk cache was cold (perf:
 * the UI thread in D state in filemap_fault under FT_New_Face, under
 * QToolButton::sizeHint, in a layout of the dock). So the dock opens every
 * font it can need once, while it is built, with the rest of its one-time
 * construction (one font per event-loop turn); a render then only finds
 * them in Qt's font cache. */
#include "fonts.hpp"

#include <QAbstractButton>
#include <QFont>
#include <QFontDatabase>
#include <QFontMetrics>
#include <QLabel>
#include <QLineEdit>
#include <QSet>
#include <QString>
#include <QVector>
#include <QWidget>

namespace velora {

namespace {

/* Code points, not UTF-16 units: a character outside the BMP stays whole. */
void addText(QSet<uint> &chars, const QString &s)
{
	for (uint c : s.toUcs4())
		if (!QChar::isSpace(c))
			chars.insert(c);
}

} // namespace

QList<QFont> fontsToWarm(QWidget *root, const QString &extra, QString *sample)
{
	QList<QFont> fonts;
	if (!root)
		return fonts;
	QSet<uint> chars;
	for (uint c = 0x21; c < 0x7f; ++c)
		chars.insert(c);
	addText(chars, extra);

	QSet<QString> seen;
	auto add = [&](const QFont &f) {
		if (!seen.contains(f.key())) {
			seen.insert(f.key());
			fonts.append(f);
		}
	};
	for (QWidget *w : root->findChildren<QWidget *>()) {
		w->ensurePolished();
		add(w->font());
		if (auto *l = qobject_cast<QLabel *>(w)) {
			QFont bold = l->font();
			bold.setBold(true);
			add(bold);
			addText(chars, l->text());
		} else if (auto *b = qobject_cast<QAbstractButton *>(w)) {
			addText(chars, b->text());
		} else if (auto *e = qobject_cast<QLineEdit *>(w)) {
			addText(chars, e->placeholderText());
		}
	}
	add(QFontDatabase::systemFont(QFontDatabase::FixedFont));

	const QVector<uint> points(chars.begin(), chars.end());
	if (sample)
		*sample = QString::fromUcs4(points.constData(), points.size());
	return fonts;
}

void warmFont(const QFont &font, const QString &sample)
{
	(void)QFontMetrics(font).boundingRect(sample);
}

} // namespace velora
