// Portico launch page: hand the launch token to the plugin at once. The
// form posts by itself; without script the visible button does the same.
document.getElementById("portico-launch").submit();
