// SPDX-License-Identifier: MIT
// libFuzzer target for Endpoint::parse, which reads endpoint strings from the
// command line, the environment and applications. Invariants: a rejected
// string gives the invalid endpoint and a reason; an accepted one has a
// canonical form that parses back to an equal endpoint, and the parts the
// scheme says it has.
//
// Input layout (see make_corpus.py):
//   byte 0      bit 0: the rest is UTF-16 code units (lone surrogates too),
//               else UTF-8 (as arguments are decoded)
//   bytes 1..   the text
#include "fuzzcheck.h"
#include "fuzztargets.h"

#include <BlightTransport/endpoint.h>

#include <QtCore/QString>

#include <optional>

using namespace Blight;

namespace {

QString textOf(const uint8_t *bytes, size_t size, bool utf16)
{
    if (!utf16)
        return QString::fromUtf8(reinterpret_cast<const char *>(bytes), qsizetype(size));
    QString text(qsizetype(size / 2), Qt::Uninitialized);
    for (size_t i = 0; i + 1 < size; i += 2)
        text[qsizetype(i / 2)] = QChar(char16_t(bytes[i] | (bytes[i + 1] << 8)));
    return text;
}

// The number at the end of an fd:, tcp:// or udp:// text as a person reads
// it: optional white space around a sign and ASCII digits.
std::optional<qint64> referenceNumber(QStringView text)
{
    text = text.trimmed();
    const bool negative = text.startsWith(u'-');
    if (negative || text.startsWith(u'+'))
        text = text.sliced(1);
    if (text.isEmpty())
        return std::nullopt;
    qint64 value = 0;
    for (const QChar c : text) {
        if (c < u'0' || c > u'9')
            return std::nullopt;
        // Saturates: anything this large is no port or descriptor.
        value = qMin<qint64>(value * 10 + (c.unicode() - u'0'), Q_INT64_C(1) << 40);
    }
    return negative ? -value : value;
}

void checkAccepted(const QString &text, const Endpoint &endpoint)
{
    const QString scheme = endpoint.schemeName();
    FUZZ_CHECK(!scheme.isEmpty());
    FUZZ_CHECK(text.startsWith(scheme + u':'));
    switch (endpoint.scheme()) {
    case Endpoint::Scheme::Invalid:
        FUZZ_CHECK(false);
        break;
    case Endpoint::Scheme::Unix:
        FUZZ_CHECK(!endpoint.path().isEmpty());
        FUZZ_CHECK(text == u"unix:" + endpoint.path() || text == u"unix://" + endpoint.path());
        break;
    case Endpoint::Scheme::Fd:
        FUZZ_CHECK(endpoint.descriptor() >= 0);
        FUZZ_CHECK(referenceNumber(QStringView(text).sliced(3)) == qint64(endpoint.descriptor()));
        break;
    case Endpoint::Scheme::Blight:
        FUZZ_CHECK(text == u"blight:" || text == u"blight:system" || text == u"blight:session");
        FUZZ_CHECK(endpoint.sessionBus() == (text == u"blight:session"));
        break;
    case Endpoint::Scheme::Tcp:
    case Endpoint::Scheme::Udp:
        FUZZ_CHECK(!endpoint.host().isEmpty());
        FUZZ_CHECK(text.startsWith(scheme + u"://"));
        // An address with colons was given in brackets, and only then.
        if (endpoint.host().contains(u':'))
            FUZZ_CHECK(text.contains(u'[' + endpoint.host() + u"]:"));
        // The port follows the last colon (a port with a colon is no number).
        FUZZ_CHECK(referenceNumber(QStringView(text).sliced(text.lastIndexOf(u':') + 1)) == qint64(endpoint.port()));
        break;
    }
    if (endpoint.scheme() != Endpoint::Scheme::Unix && endpoint.scheme() != Endpoint::Scheme::Fd) {
        FUZZ_CHECK(endpoint.path().isEmpty());
        FUZZ_CHECK(endpoint.descriptor() == -1);
    }

    // The canonical form: accepted, equal, and its own canonical form.
    const QString canonical = endpoint.toString();
    FUZZ_CHECK(!canonical.isEmpty());
    QString why = QStringLiteral("untouched");
    const Endpoint again = Endpoint::parse(canonical, &why);
    FUZZ_CHECK(again.isValid());
    FUZZ_CHECK(why == u"untouched");
    FUZZ_CHECK(again == endpoint);
    FUZZ_CHECK(again.toString() == canonical);
}

} // namespace

int BlightFuzz::endpointOneInput(const uint8_t *input, size_t length)
{
    if (length < 1)
        return 0;
    const QString text = textOf(input + 1, length - 1, (input[0] & 1) != 0);
    QString why = QStringLiteral("untouched");
    const Endpoint endpoint = Endpoint::parse(text, &why);
    if (endpoint.isValid()) {
        FUZZ_CHECK(why == u"untouched");
        checkAccepted(text, endpoint);
    } else {
        FUZZ_CHECK(!why.isEmpty() && why != u"untouched");
        FUZZ_CHECK(endpoint == Endpoint());
        FUZZ_CHECK(endpoint.toString().isEmpty());
        FUZZ_CHECK(endpoint.schemeName().isEmpty());
    }
    // Without a place for the reason, the same verdict.
    FUZZ_CHECK(Endpoint::parse(text) == endpoint);
    return 0;
}

BLIGHT_FUZZ_ENTRY(BlightFuzz::endpointOneInput)
