/* obs-velora: SPDX-License-Identifier: GPL-2.0-or-later */
#include "pictures.hpp"

#include "velora.h"

#include <QApplication>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>

#include <algorithm>

namespace velora {

void PictureDelegate::initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const
{
	QStyledItemDelegate::initStyleOption(option, index);
	if (!m_lookup)
		return;
	option->icon = m_lookup(index.data(Qt::UserRole).toString());
	option->features |= QStyleOptionViewItem::HasDecoration;
	option->decorationSize = m_size;
}

QSize Pictures::decodeBox()
{
	return QSize(72, 96);
}

QPixmap Pictures::placeholder(QSize size)
{
	QPixmap pm(size);
	pm.fill(Qt::transparent);
	const QPalette pal = QApplication::palette();
	QPainter p(&pm);
	p.setRenderHint(QPainter::Antialiasing, true);
	QColor fill = pal.color(QPalette::Mid);
	fill.setAlpha(110);
	QColor line = pal.color(QPalette::Text);
	line.setAlpha(90);
	const QRectF r = QRectF(pm.rect()).adjusted(0.5, 0.5, -0.5, -0.5);
	const qreal radius = std::max<qreal>(2.0, size.width() / 8.0);
	p.setPen(QPen(line, 1.0));
	p.setBrush(fill);
	p.drawRoundedRect(r, radius, radius);
	/* A small landscape: a sun and a hill, the usual "no picture" sign. */
	const qreal w = r.width(), h = r.height();
	p.setPen(Qt::NoPen);
	p.setBrush(line);
	p.drawEllipse(QPointF(r.left() + w * 0.62, r.top() + h * 0.38), w * 0.09, w * 0.09);
	QPainterPath hill;
	hill.moveTo(r.left() + w * 0.18, r.top() + h * 0.70);
	hill.lineTo(r.left() + w * 0.42, r.top() + h * 0.48);
	hill.lineTo(r.left() + w * 0.62, r.top() + h * 0.64);
	hill.lineTo(r.left() + w * 0.72, r.top() + h * 0.56);
	hill.lineTo(r.left() + w * 0.84, r.top() + h * 0.70);
	hill.closeSubpath();
	p.drawPath(hill);
	return pm;
}

QPixmap Pictures::decode(const QString &path)
{
	const QFileInfo info(path);
	if (!info.isFile() || info.size() <= 0 || info.size() > VELORA_THUMB_MAX_BYTES)
		return QPixmap();
	const QByteArray ext = info.suffix().toLatin1().toLower();
	const QByteArray format = ext == "jpg" ? QByteArray("jpeg") : ext;
	if (format != "png" && format != "jpeg" && format != "gif" && format != "webp")
		return QPixmap();
	if (!QImageReader::supportedImageFormats().contains(format))
		return QPixmap(); /* e.g. no WebP plugin: the placeholder */

	QImageReader reader(path, format);
	reader.setDecideFormatFromContent(false);
	const QSize size = reader.size(); /* from the header */
	if (!size.isValid() || size.width() > static_cast<int>(VELORA_THUMB_MAX_SIDE) ||
	    size.height() > static_cast<int>(VELORA_THUMB_MAX_SIDE) ||
	    static_cast<qint64>(size.width()) * size.height() > static_cast<qint64>(VELORA_THUMB_MAX_PIXELS))
		return QPixmap();
#if QT_VERSION >= QT_VERSION_CHECK(6, 0, 0)
	reader.setAllocationLimit(16); /* MiB; the pixel cap needs at most 4 */
#endif
	const QSize scaled = size.scaled(decodeBox(), Qt::KeepAspectRatio);
	if (!scaled.isEmpty() && (scaled.width() < size.width() || scaled.height() < size.height()))
		reader.setScaledSize(scaled);
	const QImage img = reader.read();
	if (img.isNull())
		return QPixmap();
	return QPixmap::fromImage(img);
}

const QIcon *Pictures::icon(const QString &path) const
{
	auto it = m_icons.constFind(path);
	return it == m_icons.constEnd() ? nullptr : &it.value();
}

bool Pictures::load(const QString &path)
{
	m_tried.insert(path, true);
	const QPixmap pm = decode(path);
	if (pm.isNull())
		return false;
	m_icons.insert(path, QIcon(pm));
	return true;
}

} // namespace velora
