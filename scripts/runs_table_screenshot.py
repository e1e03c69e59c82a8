"""Screenshot of the Runs tab with 12 generated runs (no training), three ResNet-20 runs selected.

    PYTHONPATH=. .venv/bin/python scripts/runs_table_screenshot.py docs/screenshots/30-runs-table.png
"""
import os, sys, tempfile
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="rs-home-")
from tests.core.run_fixtures import write_run
from workbench.core.runs import meta as run_meta
root = tempfile.mkdtemp(prefix="rs-runs-")
specs = [("resnet20", 0.1, 128, True, 0.91), ("resnet20", 0.01, 128, True, 0.88), ("resnet20", 0.1, 256, False, 0.86),
         ("simple_cnn", 0.001, 128, False, 0.72), ("simple_cnn", 0.003, 128, True, 0.76), ("resnet_wide", 0.01, 128, True, 0.89),
         ("resnet_wide", 0.05, 256, True, 0.87), ("all_conv", 0.01, 128, True, 0.80), ("all_conv", 0.003, 64, False, 0.74),
         ("resnet20", 0.3, 128, True, 0.35), ("simple_cnn", 0.001, 64, False, 0.70), ("resnet_wide", 0.01, 64, False, 0.84)]
for i, (arch, lr, bs, aug, top1) in enumerate(specs):
    status = "failed" if lr == 0.3 else ("incomplete" if i == 11 else ("stopped" if i == 8 else "finished"))
    run = write_run(root, f"20261120-{10+i:02d}0000-cifar10-{arch}", config={"arch": arch, "learning_rate": lr, "batch_size": bs,
                    "augment": aug, "optimizer": "sgd" if arch == "resnet20" else "adam"}, epochs=30 if arch != "simple_cnn" else 20,
                    final_top1=top1, status=status, started=f"2026-11-20T{10+i:02d}:00:00+0000",
                    seconds_per_epoch={"resnet20": 21, "simple_cnn": 6, "resnet_wide": 35, "all_conv": 14}[arch], seed=i)
    if i == 0:
        run_meta.set_name(run, "ResNet-20 baseline"); run_meta.add_tag(run, "report")
    if i == 5:
        run_meta.add_tag(run, "report"); run_meta.set_note(run, "VGG with augmentation")
from PySide6.QtWidgets import QApplication
from workbench.gui.main_window import MainWindow
app = QApplication.instance() or QApplication(sys.argv)
w = MainWindow(runs_root=root)
w.resize(1500, 950)
w.show()
w.tabs.setCurrentWidget(w.runs)
done = []
w.runs.runs_listed.connect(lambda n: done.append(n))
w.runs.refresh()
while not done: app.processEvents()
shown = []
w.runs.comparison_shown.connect(lambda n: shown.append(n))
w.runs.select_dirs([r.run_dir for r in w.runs.rows if r.get("arch") in ("resnet20",) and r.get("status") == "finished"])
while not shown: app.processEvents()
for _ in range(20): app.processEvents()
w.grab().save(sys.argv[1])
w.runs.tasks.wait_all(5000)
print("saved", sys.argv[1], len(w.runs.rows))
os._exit(0)
