/* zh-CN for the libraries Flask-Admin's pages load (served from here: no CDN, no inline script).
 *
 * - moment: month and day names, Monday first (the date picker takes its names from moment);
 * - bootstrap-daterangepicker 1.3 (Flask-Admin's date filters and date fields): its button and
 *   range labels ("Apply", "Cancel", "From", "To") are its own, so every picker gets them here,
 *   and a range reads "2026-01-01 至 2026-01-31" (Flask-Admin's " to " is read too);
 * - Select2 3.5: its messages ("No matches found", "Please enter 1 or more character", ...), and
 *   the hint Flask-Admin's form.js hard-codes for tag inputs ("Enter comma separated values").
 *
 * Loaded by admin/base_zh.html after moment and Select2 and before the date picker script and
 * Flask-Admin's form.js: the picker is wrapped the moment its script defines it (see below).
 */
(function () {
  'use strict';
  var $ = window.jQuery;
  var moment = window.moment;

  var MONTHS = ['一月', '二月', '三月', '四月', '五月', '六月', '七月', '八月', '九月', '十月', '十一月', '十二月'];
  var MONTHS_SHORT = ['1月', '2月', '3月', '4月', '5月', '6月', '7月', '8月', '9月', '10月', '11月', '12月'];
  var WEEKDAYS = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];
  var WEEKDAYS_SHORT = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];
  var WEEKDAYS_MIN = ['日', '一', '二', '三', '四', '五', '六'];

  var PICKER_LABELS = {
    applyLabel: '确定',
    cancelLabel: '取消',
    fromLabel: '从',
    toLabel: '至',
    weekLabel: '周',
    customRangeLabel: '自定义范围'
  };

  var RANGE_SEPARATOR = ' 至 ';

  var SELECT2 = {
    formatMatches: function (n) { return '共 ' + n + ' 项结果，可用上下方向键选择，回车确认。'; },
    formatNoMatches: function () { return '没有找到匹配项'; },
    formatAjaxError: function () { return '加载失败，请稍后再试'; },
    formatInputTooShort: function (input, min) { return '请再输入 ' + (min - input.length) + ' 个字'; },
    formatInputTooLong: function (input, max) { return '请删掉 ' + (input.length - max) + ' 个字'; },
    formatSelectionTooBig: function (limit) { return '最多只能选择 ' + limit + ' 项'; },
    formatLoadMore: function () { return '正在加载更多结果…'; },
    formatSearching: function () { return '正在搜索…'; }
  };
  var TAGS_HINT = '请输入值，多个值用英文逗号分隔';

  if (moment && moment.defineLocale) {
    moment.defineLocale('zh-cn', {
      months: MONTHS,
      monthsShort: MONTHS_SHORT,
      weekdays: WEEKDAYS,
      weekdaysShort: WEEKDAYS_SHORT,
      weekdaysMin: WEEKDAYS_MIN,
      longDateFormat: {
        LT: 'HH:mm', LTS: 'HH:mm:ss', L: 'YYYY-MM-DD', LL: 'YYYY年M月D日',
        LLL: 'YYYY年M月D日 HH:mm', LLLL: 'YYYY年M月D日dddd HH:mm'
      },
      meridiemParse: /上午|下午/,
      isPM: function (input) { return input === '下午'; },
      meridiem: function (hour) { return hour < 12 ? '上午' : '下午'; },
      relativeTime: {
        future: '%s后', past: '%s前', s: '几秒', ss: '%d 秒', m: '1 分钟', mm: '%d 分钟', h: '1 小时',
        hh: '%d 小时', d: '1 天', dd: '%d 天', M: '1 个月', MM: '%d 个月', y: '1 年', yy: '%d 年'
      },
      week: { dow: 1, doy: 4 }
    });
    moment.locale('zh-cn');
  }

  function withChineseLabels(original) {
    if (typeof original !== 'function' || original.zhCN) {
      return original;
    }
    var wrapped = function (options, callback) {
      var opts = $.extend({}, options || {});
      if (opts.separator === ' to ') {
        opts.separator = RANGE_SEPARATOR;      // the server reads both (views/admin/base.py)
      }
      opts.locale = $.extend({}, PICKER_LABELS, {
        daysOfWeek: WEEKDAYS_MIN.slice(),
        monthNames: MONTHS_SHORT.slice(),
        firstDay: 1
      }, opts.locale || {});
      return original.call(this, opts, callback);
    };
    wrapped.zhCN = true;
    return wrapped;
  }

  // The picker script is loaded after this one, and Flask-Admin builds the filter pickers as soon as
  // its scripts run (event adminFormReady), before the document is ready: so the wrapper is put in
  // place the moment the picker script defines $.fn.daterangepicker.
  function localiseDatePicker() {
    if (!$) {
      return;
    }
    var current = withChineseLabels($.fn.daterangepicker);
    try {
      Object.defineProperty($.fn, 'daterangepicker', {
        configurable: true,
        enumerable: true,
        get: function () { return current; },
        set: function (fn) { current = withChineseLabels(fn); }
      });
    } catch (e) {
      $.fn.daterangepicker = current;
    }
  }

  function localiseSelect2() {
    var original = $ && $.fn.select2;
    if (!original || original.zhCN) {
      return;
    }
    original.locales = original.locales || {};
    original.locales['zh-CN'] = SELECT2;
    $.extend(original.defaults, SELECT2);
    var wrapped = function (opts) {
      if (opts && typeof opts === 'object' && opts.tags !== undefined) {
        var args = Array.prototype.slice.call(arguments);
        args[0] = $.extend({}, opts, { formatNoMatches: function () { return TAGS_HINT; } });
        return original.apply(this, args);
      }
      return original.apply(this, arguments);
    };
    $.extend(wrapped, original);      // defaults, locales, ajaxDefaults: the same objects
    wrapped.zhCN = true;
    $.fn.select2 = wrapped;
  }

  // exposed for the tests and for pages that load the libraries later
  window.registryZhLocale = {
    PICKER_LABELS: PICKER_LABELS, SELECT2: SELECT2, MONTHS_SHORT: MONTHS_SHORT, WEEKDAYS_MIN: WEEKDAYS_MIN,
    apply: function () { localiseSelect2(); }
  };

  if ($) {
    localiseSelect2();
    localiseDatePicker();
    $(function () {
      localiseSelect2();       // in case Select2 came later on the page
    });
  }
}());
