package rbac

import (
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Matrix is the effective permission matrix of a policy: for every role and
// every permission, how the role grants it once inheritance and wildcards
// are resolved. Review it regularly, as OWASP ASVS asks; print it
// with [Matrix.WriteText], or serve it as JSON with
// [Middleware.MatrixHandler] behind an admin-only requirement.
type Matrix struct {
	// Roles are the rows, in the policy's definition order.
	Roles []string `json:"roles"`
	// Permissions are the columns, sorted.
	Permissions []string `json:"permissions"`
	// Grants[i][j] is how Roles[i] grants Permissions[j].
	Grants [][]Grant `json:"grants"`
}

// Matrix returns the effective permission matrix. Its columns are every
// permission the policy mentions, wildcards included, plus extra (the
// permissions routes require, say, so that a required permission no role
// grants shows up as an empty column). Invalid extra permissions are left
// out.
func (p *Policy) Matrix(extra ...string) *Matrix {
	m := &Matrix{Roles: p.RoleNames()}
	perms := p.Permissions()
	for _, e := range extra {
		if checkPermission(e, true) == nil {
			perms = append(perms, e)
		}
	}
	slices.Sort(perms)
	m.Permissions = slices.Compact(perms)
	m.Grants = make([][]Grant, len(m.Roles))
	for i, role := range m.Roles {
		row := make([]Grant, len(m.Permissions))
		for j, perm := range m.Permissions {
			row[j] = p.RoleGrant(role, perm)
		}
		m.Grants[i] = row
	}
	return m
}

// WriteText writes the matrix as an aligned text table, one row per role,
// with "allow", "own" or "-" in each cell.
func (m *Matrix) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var b strings.Builder
	b.WriteString("role")
	for _, p := range m.Permissions {
		b.WriteByte('\t')
		b.WriteString(p)
	}
	b.WriteByte('\n')
	for i, role := range m.Roles {
		b.WriteString(role)
		for j := range m.Permissions {
			b.WriteByte('\t')
			switch g := m.Grants[i][j]; g {
			case Denied:
				b.WriteByte('-')
			default:
				b.WriteString(g.String())
			}
		}
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(tw, b.String()); err != nil {
		return err
	}
	return tw.Flush()
}

// String returns the text table of [Matrix.WriteText].
func (m *Matrix) String() string {
	var b strings.Builder
	_ = m.WriteText(&b)
	return b.String()
}
