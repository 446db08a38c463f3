/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
/* Category pictures on the dock's side: decoding the files the core fetched
 * and checked, a neutral placeholder, and a cache of what was decoded.
 *
 * The core hands over only pictures that passed its checks (format by
 * content, bytes, pixels from the header). They are checked once more here
 * before any decoder runs: the file's size, a known format, and the
 * dimensions QImageReader reads from the header (no pixel is decoded
 * before that). Decoding happens on the UI thread, one picture per
 * event-loop turn, scaled while reading: each takes a few milliseconds. */
#pragma once

#include <QHash>
#include <QIcon>
#include <QPixmap>
#include <QSize>
#include <QString>
#include <QStyledItemDelegate>

#include <functional>

namespace velora {

/* Draws each category's picture in lists (the combo box's own list and the
 * list that filters while typing), looked up by the item's slug (its
 * Qt::UserRole data). The pictures are not in the item model: changing an
 * item of an editable combo box rewrites the text being typed. */
class PictureDelegate : public QStyledItemDelegate {
public:
	using Lookup = std::function<QIcon(const QString &slug)>;
	PictureDelegate(QSize size, Lookup lookup, QObject *parent)
		: QStyledItemDelegate(parent), m_size(size), m_lookup(std::move(lookup))
	{
	}

protected:
	void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;

private:
	QSize m_size;
	Lookup m_lookup;
};

class Pictures {
public:
	/* The size pictures are decoded to (the largest place they are shown,
	 * at twice the pixels for high-DPI screens). */
	static QSize decodeBox();

	/* A neutral placeholder of `size`, in the palette's colours. */
	static QPixmap placeholder(QSize size);

	/* Decodes `path` scaled into decodeBox(); a null pixmap when the file
	 * fails any check or does not decode. */
	static QPixmap decode(const QString &path);

	/* The decoded picture of `path`; nullptr when not decoded (yet). */
	const QIcon *icon(const QString &path) const;
	/* Decoding `path` was tried (successfully or not). */
	bool tried(const QString &path) const { return m_tried.contains(path); }
	/* Decodes `path` now and keeps the result; true when it is usable. */
	bool load(const QString &path);

private:
	QHash<QString, QIcon> m_icons;
	QHash<QString, bool> m_tried;
};

} // namespace velora
