// Replays every seed in corpus/ and every past finding in regressions/
// through the fuzz target's checks, in a normal build: a crash the fuzzer
// once found stays fixed.
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtTest/QtTest>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *input, size_t length);

class tst_FuzzReplay : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void replay_data();
    void replay();
};

void tst_FuzzReplay::replay_data()
{
    QTest::addColumn<QString>("path");
    const QDir root(QStringLiteral(BLIGHT_FUZZ_DIR));
    int seeds = 0;
    for (const QString &directory : {QStringLiteral("corpus"), QStringLiteral("regressions")}) {
        const QDir dir(root.filePath(directory));
        const QStringList names = dir.entryList(QDir::Files, QDir::Name);
        for (const QString &name : names) {
            if (name.endsWith(u".md"))
                continue;
            QTest::addRow("%s/%s", qPrintable(directory), qPrintable(name)) << dir.filePath(name);
            if (directory == u"corpus")
                ++seeds;
        }
    }
    // A lost corpus would make this test pass on nothing.
    if (seeds < 13)
        qFatal("only %d seeds in %s/corpus: run tests/fuzz/make_corpus.py", seeds, qPrintable(root.path()));
}

void tst_FuzzReplay::replay()
{
    QFETCH(QString, path);
    QFile file(path);
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.errorString()));
    const QByteArray input = file.readAll();
    QVERIFY(!input.isEmpty());
    // Any violated invariant or sanitizer report aborts the process.
    QCOMPARE(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.constData()), size_t(input.size())), 0);
}

QTEST_GUILESS_MAIN(tst_FuzzReplay)
#include "tst_fuzzreplay.moc"
