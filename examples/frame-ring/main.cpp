// SPDX-License-Identifier: MIT
// blight-frame-ring: a producer sends 1404x1872 RGB32 frames from a three-buffer
// BlightBufferPool at 30 frames/s over an AF_UNIX socket pair and then TCP on
// loopback; a receiver checks every word; one JSON line per link says what it cost.
#include "frameproducer.h"
#include "linkrun.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QJsonDocument>
#include <QtCore/QList>
#include <QtCore/QTextStream>

#include <cstdio>
#include <functional>

using namespace FrameRing;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("blight-frame-ring"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Streams frames from a three-buffer pool without copying them and verifies each one."));
    parser.addHelpOption();
    const QCommandLineOption framesOption(QStringLiteral("frames"), QStringLiteral("Frames per link (120)."),
                                          QStringLiteral("count"), QStringLiteral("120"));
    const QCommandLineOption linkOption(QStringLiteral("link"), QStringLiteral("unix, tcp or both (both)."),
                                        QStringLiteral("link"), QStringLiteral("both"));
    const QCommandLineOption flatOutOption(
        QStringLiteral("flat-out"),
        QStringLiteral("Send as fast as the pool gives buffers, not at 30 frames/s; adds framesPerSecond."));
    const QCommandLineOption writeWhileOutOption(
        QStringLiteral("write-while-out"),
        QStringLiteral("Negative control: write into each frame's buffer while its send is still out."));
    parser.addOptions({framesOption, linkOption, flatOutOption, writeWhileOutOption});
    parser.process(app);

    bool framesOk = false;
    FrameProducer::Options options;
    options.frames = parser.value(framesOption).toInt(&framesOk);
    options.pace = parser.isSet(flatOutOption) ? FrameProducer::Pace::FlatOut : FrameProducer::Pace::Timer;
    options.writeWhileOut = parser.isSet(writeWhileOutOption);
    const QString linkName = parser.value(linkOption);
    if (!framesOk || options.frames < 1) {
        std::fprintf(stderr, "--frames needs a positive number\n");
        return 2;
    }
    QList<LinkRun::Link> links;
    if (linkName == u"unix" || linkName == u"both")
        links.append(LinkRun::Link::Unix);
    if (linkName == u"tcp" || linkName == u"both")
        links.append(LinkRun::Link::Tcp);
    if (links.isEmpty()) {
        std::fprintf(stderr, "--link is unix, tcp or both\n");
        return 2;
    }

    // One link after the other, so that they do not share the machine.
    QTextStream out(stdout);
    bool allVerified = true;
    qsizetype next = 0;
    std::function<void()> runNext = [&] {
        if (next == links.size())
            return QCoreApplication::exit(allVerified ? 0 : 1);
        auto *run = new LinkRun(links.at(next++), options, &app);
        QObject::connect(run, &LinkRun::finished, &app, [&, run] {
            const LinkReport report = run->report();
            out << QJsonDocument(report.toJson()).toJson(QJsonDocument::Compact) << Qt::endl;
            allVerified = allVerified && report.allVerified(options.frames);
            run->deleteLater();
            runNext();
        });
        run->start();
    };
    QMetaObject::invokeMethod(&app, runNext, Qt::QueuedConnection);
    return app.exec();
}
